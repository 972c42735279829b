import DNSTestSupport
import DNSWire
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import DNSTransport

#if canImport(Glibc)
    import Glibc
#endif

/// The NOTIFY sender's wait between rounds. It once raced an AsyncStream's `next()`
/// against a 100 ms sleep and cancelled the loser, which terminates the stream: from
/// the first timeout on its loop spun (a core busy in every onebzd with NOTIFY targets,
/// reading the zone's SOA on each turn).
@Suite struct NotifySenderTests {
    @Test func aCancelledWaitLeavesTheBellWorking() async throws {
        let bell = Doorbell()
        // Waits cut short by a timeout, as the sender's loop does every 100 ms.
        for _ in 0..<3 {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await bell.wait() }
                group.addTask { try? await Task.sleep(for: .milliseconds(10)) }
                await group.next()
                group.cancelAll()
            }
        }
        // The next wait still blocks until the bell rings.
        let woke = NIOLockedValueBox(false)
        let waiter = Task {
            await bell.wait()
            woke.withLockedValue { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(!woke.withLockedValue { $0 }, "wait() returned without a ring")
        bell.ring()
        await waiter.value
        #expect(woke.withLockedValue { $0 })
    }

    @Test func aRingWhileNobodyWaitsWakesTheNextWaitOnce() async throws {
        let bell = Doorbell()
        bell.ring()
        bell.ring()
        await bell.wait()  // at once: rung before
        let woke = NIOLockedValueBox(false)
        let waiter = Task {
            await bell.wait()  // rings do not accumulate: this one waits
            woke.withLockedValue { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(!woke.withLockedValue { $0 })
        waiter.cancel()
        await waiter.value
    }

    /// A sender whose target never answers: one NOTIFY at once, a retry after a second,
    /// and in between it sleeps: the SOA is read only when a NOTIFY is due, and the
    /// process uses little CPU (a spinning loop uses a core however loaded the machine).
    @Test func anUnansweredTargetCostsNoCPUBetweenRetries() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        // A UDP socket that takes the NOTIFYs and never answers.
        let silent = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        let apex = try Name("1bz.")
        let soaReads = NIOLockedValueBox(0)
        let soa = TransferFixture.soa(serial: 2)
        let sender = NotifySender(
            apex: apex,
            soa: {
                soaReads.withLockedValue { $0 += 1 }
                return soa
            },
            configuration: .init(targets: [.init(address: silent.localAddress!, key: nil)]),
            group: group, logger: Logger(label: "notify-test"))
        let running = Task { try await sender.run() }
        sender.serialChanged(2)
        let before = Self.processCPUSeconds()
        try await Task.sleep(for: .milliseconds(1500))
        let used = Self.processCPUSeconds() - before
        running.cancel()
        _ = try? await running.value
        let reads = soaReads.withLockedValue { $0 }
        #expect((1...3).contains(reads), "the SOA was read \(reads) times in 1.5 s (once per NOTIFY due)")
        #expect(used < 0.5, "the sender used \(used) s of CPU in 1.5 s of waiting")
    }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
