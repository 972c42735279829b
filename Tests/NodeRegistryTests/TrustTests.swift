import Testing

@testable import NodeRegistry

@Suite struct TrustTests {
    static let pol = "000000000000000000"  // 10^18 wei suffix

    @Test(arguments: [
        // verified, stake wei, uptime, endorsers -> score
        (false, "0", 0.0, 0, 0),
        (true, "0", 0.0, 0, 40),
        (true, "100" + pol, 0.0, 0, 60),
        (true, "1000" + pol, 0.0, 0, 60),  // stake caps at 20
        (false, "50" + pol, 0.0, 0, 10),
        (false, "0", 1.0, 0, 25),
        (false, "0", 0.5, 0, 13),  // 12.5 rounds half away from zero
        (false, "0", 0.0, 1, 3),
        (false, "0", 0.0, 9, 15),  // endorsements cap at 15
        (true, "100" + pol, 1.0, 5, 100),
        (true, "1", 2.0, 100, 80),  // out-of-range inputs are clamped
    ])
    func formula(_ verified: Bool, _ stake: String, _ uptime: Double, _ endorsers: Int, _ expected: Int) {
        let inputs = TrustInputs(verified: verified, stakeWei: UInt256Decimal(stake)!, uptime: uptime, endorsers: endorsers)
        #expect(Trust.score(inputs) == expected)
    }

    @Test func uptimeCountsFiveMinuteSlotsInTheLastDay() {
        let now: Int64 = 1_000_000
        #expect(Trust.uptime(heartbeats: [], now: now) == 0)
        // Two beats in the same slot count once; future and too-old beats not at all.
        #expect(Trust.uptime(heartbeats: [now, now - 10, now + 60, now - 86_400], now: now) == 1.0 / 288)
        let everySlot = (0..<288).map { now - Int64($0) * 300 }
        #expect(Trust.uptime(heartbeats: everySlot, now: now) == 1)
    }

    /// Issue 21 finding 2: timestamps come from requests; `now - t` must not trap.
    @Test(arguments: [Int64.min, Int64.min + 1, -1, Int64.max])
    func uptimeIgnoresTimestampsAtTheExtremes(_ t: Int64) {
        #expect(Trust.uptime(heartbeats: [t], now: 1_000_000) == 0)
        #expect(Trust.uptime(heartbeats: [t, 999_999], now: 1_000_000) == 1.0 / 288)
        #expect(Trust.uptime(heartbeats: [t], now: Int64.max) == (t == Int64.max ? 1.0 / 288 : 0))
    }

    @Test func tiers() {
        #expect(Trust.tier(verified: false, registered: false, score: 0) == "unregistered")
        #expect(Trust.tier(verified: false, registered: true, score: 60) == "self-declared")
        #expect(Trust.tier(verified: true, registered: true, score: 40) == "verified")
        #expect(Trust.tier(verified: true, registered: true, score: 70) == "trusted")
    }

    @Test func stakeParsing() {
        #expect(UInt256Decimal("007")?.digits == "7")
        #expect(UInt256Decimal("0")?.digits == "0")
        #expect(UInt256Decimal("-1") == nil)
        #expect(UInt256Decimal("") == nil)
        #expect(UInt256Decimal(String(repeating: "9", count: 79)) == nil)
    }
}
