import Dispatch
import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import onebzd

/// The SOA serial's one owner: forward only (RFC 1982), subscribers in increasing order,
/// and a raise never waits for a subscriber (the engine re-signing, NOTIFY).
@Suite struct ZoneSerialTests {
    final class Heard: Sendable {
        let serials = NIOLockedValueBox<[UInt32]>([])
        func record(_ serial: UInt32) { serials.withLockedValue { $0.append(serial) } }
        var all: [UInt32] { serials.withLockedValue { $0 } }
    }

    @Test func onlyNewerSerialsAreTakenAndPublished() {
        let serial = ZoneSerial(initial: 100)
        let heard = Heard()
        serial.subscribe(heard.record)
        serial.raise(to: 105)
        serial.raise(to: 103)  // older: nothing
        serial.raise(to: 105)  // equal: nothing
        serial.raise(toBlock: 107)
        #expect(serial.current == 107)
        #expect(heard.all == [105, 107])
    }

    @Test func serialsWrapAsRFC1982Says() {
        let serial = ZoneSerial(initial: 0xFFFF_FFF0)
        serial.raise(to: 5)  // 21 ahead, across the wrap
        #expect(serial.current == 5)
        serial.raise(to: 5 &+ 0x8000_0000)  // exactly 2^31 away: undefined, not newer
        #expect(serial.current == 5)
        serial.raise(toBlock: 0x1_0000_0009)  // a block past 2^32: its low 32 bits
        #expect(serial.current == 9)
    }

    @Test func concurrentRaisesArePublishedInIncreasingOrderEndingWithTheNewest() async {
        let serial = ZoneSerial(initial: 0)
        let heard = Heard()
        serial.subscribe(heard.record)
        await withTaskGroup(of: Void.self) { group in
            for lane in 0..<8 {
                group.addTask {
                    for step in stride(from: UInt32(1 + lane), through: 2000, by: 8) { serial.raise(to: step) }
                }
            }
        }
        let all = heard.all
        #expect(serial.current == 2000)
        #expect(all.last == 2000)
        #expect(zip(all, all.dropFirst()).allSatisfy { $0 < $1 }, "not increasing: \(all.prefix(50))")
    }

    @Test func aRaiseNeverWaitsForASlowSubscriber() {
        let serial = ZoneSerial(initial: 1)
        let heard = Heard()
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        serial.subscribe { value in
            if value == 2 {
                _ = entered.signal()
                _ = release.wait(timeout: .now() + 10)  // as slow as re-signing a big zone
            }
            heard.record(value)
        }
        let publisher = Thread { serial.raise(to: 2) }
        publisher.start()
        #expect(entered.wait(timeout: .now() + 10) == .success)
        // The first raise's subscriber is busy: a second raise returns at once.
        let start = DispatchTime.now()
        serial.raise(to: 3)
        let waited = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        #expect(waited < 5, "raise waited \(waited) s for a subscriber")
        #expect(serial.current == 3)
        _ = release.signal()
        // The running publisher tells the subscriber about 3 after 2.
        let deadline = Date().addingTimeInterval(10)
        while heard.all.count < 2 && Date() < deadline { usleep(1000) }
        #expect(heard.all == [2, 3])
    }
}
