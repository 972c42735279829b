import CMalloc
import Foundation
import Logging

/// Gives the heap a big one-off build freed back to the kernel
/// (docs/performance.md#memory-at-1m-issue-23). glibc keeps freed small blocks in its
/// arenas and returns only the top of the main heap on its own: after the cold start's
/// bulk round (the events' facts, the export pages), a snapshot load or the NSEC3
/// zone's build, hundreds of MiB at a million names stayed resident, free but never
/// reused by the much smaller steady state. `malloc_trim(0)` releases every free page of
/// every arena (madvise), whatever its place in the heap.
///
/// Call it only after such a build, off the query path and with no lock the query path
/// takes: it walks every arena's free lists (tens of milliseconds at 1M names), holding
/// each arena's own lock meanwhile.
package enum FreedHeap {
    /// Trims the heap and logs the resident set before and after, with `after` naming
    /// the build that freed it.
    package static func returnToKernel(after build: String, logger: Logger) {
        let before = residentBytes()
        let started = ContinuousClock.now
        malloc_trim(0)
        let after = residentBytes()
        logger.info(
            "memory: freed heap returned to the kernel",
            metadata: [
                "after": "\(build)", "rss_before_mib": "\(before >> 20)", "rss_after_mib": "\(after >> 20)",
                "ms": "\(Int((ContinuousClock.now - started) / .milliseconds(1)))",
            ])
    }

    /// glibc's malloc arenas capped at `arenas` (its default is 8 per core), unless the
    /// operator set `MALLOC_ARENA_MAX`. Each thread that allocates gets an arena of its
    /// own up to the cap, and memory freed in one arena is reused only by the threads of
    /// that arena: with the zone-held misses rendered and cached on the UDP threads, the
    /// cache of a million names grew in their fresh arenas while the cold start's freed
    /// heap sat in the others. Measured at 1M (`MALLOC_ARENA_MAX=2 scripts/scale
    /// 1000000`): RSS after every name was queried once 1,045 -> 939 MiB, cached q/s and
    /// the first pass unchanged. A query hit allocates nothing, so the arenas' locks are
    /// taken only on misses, renders and NIO's paths. Call first, before threads start.
    /// Returns the cap applied (nil: left to the environment).
    @discardableResult
    package static func limitArenas(to arenas: Int32 = 2) -> Int32? {
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return nil }
        return mallopt(M_ARENA_MAX, arenas) == 1 ? arenas : nil
    }

    /// Bytes the heap has handed out and not taken back (glibc's `mallinfo2`, every
    /// arena): what a structure costs, malloc's rounding included, without the noise
    /// of the resident set (freed pages, reuse).
    package static func allocatedBytes() -> Int { Int(mallinfo2().uordblks) }

    /// The process's resident set in bytes (`/proc/self/statm`, second field, pages);
    /// 0 where there is no such file.
    package static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
