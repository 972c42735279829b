import ChainReader
import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Persists the materialised zone (`[zone] snapshot_file`) every `interval` while it
/// changes, and once more at a graceful shutdown. The view is taken under the zone's lock
/// without copying (copy-on-write entries); encoding, hashing and the crash-safe write
/// run on a thread of their own, off the lock and off the query path.
///
/// A snapshot names the block its name set is complete up to, by number and hash: the
/// hash comes from the follower's recent synced blocks (`SyncedCheckpoints`); a view
/// whose block is not among them (the follower moved on meanwhile) waits for the next
/// round.
package struct ZoneSnapshotWriter: Service {
    let zone: MaterializedZone
    let path: String
    let interval: Duration
    let identity: ZoneSnapshot.Identity
    let checkpoints: SyncedCheckpoints
    let logger: Logger
    private let written = Counter(label: "onebz_zone_snapshots_written_total")
    private let failures = Counter(label: "onebz_zone_snapshot_failures_total")
    private let bytes = Gauge(label: "onebz_zone_snapshot_bytes")
    /// The block and serial last written (nothing new: no write).
    private let last = NIOLockedValueBox<(block: UInt64, serial: UInt32)?>(nil)

    package init(
        zone: MaterializedZone, path: String, interval: Duration, identity: ZoneSnapshot.Identity,
        checkpoints: SyncedCheckpoints, logger: Logger
    ) {
        self.zone = zone
        self.path = path
        self.interval = interval
        self.identity = identity
        self.checkpoints = checkpoints
        self.logger = logger
    }

    package func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: interval)
                    await write()
                }
            }
        } catch is CancellationError {}
        // Shutting down: the newest state, so the next start resumes from it.
        await write()
    }

    /// Writes a snapshot unless the zone is not live, its block has no known hash, or
    /// nothing moved since the last one; returns whether it wrote.
    @discardableResult
    package func write() async -> Bool {
        guard let view = zone.snapshotView() else { return false }
        if let last = last.withLockedValue({ $0 }), last.block == view.block, last.serial == view.serial { return false }
        guard let checkpoint = checkpoints.checkpoint(at: view.block) else {
            logger.debug("zone snapshot: the block's hash is not known yet, next round", metadata: ["block": "\(view.block)"])
            return false
        }
        let snapshot = ZoneSnapshot.View(checkpoint: checkpoint, serial: view.serial, entries: view.entries)
        let (path, identity) = (self.path, self.identity)
        let started = NIODeadline.now()
        // A thread of its own: Dispatch's global queues share their width with Swift's
        // cooperative pool on Linux, and a million names take a second to write.
        let result: Result<Int, any Error> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result { try ZoneSnapshotFile.write(snapshot, identity: identity, to: path) })
            }
            thread.name = "onebz-zone-snapshot"
            thread.start()
        }
        switch result {
        case .success(let size):
            written.increment()
            bytes.record(Int64(size))
            logger.info(
                "zone snapshot written",
                metadata: [
                    "file": "\(path)", "block": "\(view.block)", "serial": "\(view.serial)",
                    "nodes": "\(view.entries.lazy.filter(\.inUse).count)", "bytes": "\(size)",
                    "ms": "\((NIODeadline.now() - started).nanoseconds / 1_000_000)",
                ])
            last.withLockedValue { $0 = (view.block, view.serial) }
            return true
        case .failure(let error):
            failures.increment()
            logger.error("zone snapshot: writing failed", metadata: ["file": "\(path)", "error": "\(error)"])
            return false
        }
    }
}
