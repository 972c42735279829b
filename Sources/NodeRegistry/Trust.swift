/// The registry's trust score, a pure function of its inputs (documented in docs/registry.md):
///
///     trust = round( 40 * verified
///                  + 20 * min(1, stake / 100 POL)
///                  + 25 * uptime
///                  + 15 * min(1, endorsers / 5) )        in 0...100
///
/// - verified: the on-chain `verified` flag (1 or 0).
/// - stake: the on-chain stake in wei (1 POL = 10^18 wei); 100 POL or more earns all 20.
/// - uptime: fraction of the last 24 h's 288 five-minute slots that hold at least one
///   valid heartbeat (see `uptime(heartbeats:now:)`).
/// - endorsers: distinct other nodes that endorsed this node and, when the score is
///   computed, are registered and verified or staked on chain (`countsAsEndorser`).
public struct TrustInputs: Hashable, Sendable {
    public var verified: Bool
    public var stakeWei: UInt256Decimal
    public var uptime: Double
    public var endorsers: Int

    public init(verified: Bool, stakeWei: UInt256Decimal, uptime: Double, endorsers: Int) {
        self.verified = verified
        self.stakeWei = stakeWei
        self.uptime = uptime
        self.endorsers = endorsers
    }
}

public enum Trust {
    public static let uptimeWindow: Int64 = 24 * 3600
    public static let heartbeatSlot: Int64 = 300
    public static let fullStakePOL: Double = 100
    public static let fullEndorsers = 5
    /// Stake that makes a node's endorsements count without the verified flag.
    public static let endorserStakePOL: Double = 1

    /// Whether a node's endorsements count now: registration costs only gas, so a
    /// registered node vouches for others only once it paid `verifyNode` or staked at
    /// least `endorserStakePOL` (docs/registry.md, threat model).
    public static func countsAsEndorser(registered: Bool, verified: Bool, stakeWei: UInt256Decimal) -> Bool {
        registered && (verified || stakeWei.pol >= endorserStakePOL)
    }

    /// Whether a signed timestamp is within `maxSkew` seconds of `now`, for any values
    /// (they come from requests: `abs(ts - now)` traps for Int64.min).
    public static func isWithin(_ maxSkew: Int64, _ timestamp: Int64, of now: Int64) -> Bool {
        let (difference, overflow) = timestamp.subtractingReportingOverflow(now)
        return !overflow && difference.magnitude <= maxSkew.magnitude
    }

    public static func score(_ i: TrustInputs) -> Int {
        let verified = i.verified ? 40.0 : 0
        let stake = 20 * min(1, max(0, i.stakeWei.pol / fullStakePOL))
        let uptime = 25 * min(1, max(0, i.uptime))
        let endorse = 15 * min(1, Double(max(0, i.endorsers)) / Double(fullEndorsers))
        return min(100, max(0, Int((verified + stake + uptime + endorse).rounded())))
    }

    /// Fraction of the `uptimeWindow` before `now` (288 slots of `heartbeatSlot` seconds)
    /// with at least one heartbeat. Heartbeats in the future or outside the window are ignored.
    public static func uptime(heartbeats: [Int64], now: Int64) -> Double {
        let slots = uptimeWindow / heartbeatSlot
        var seen = Set<Int64>()
        for t in heartbeats where t <= now {
            // t comes from a request: now - t overflows for t far in the past.
            let (age, overflow) = now.subtractingReportingOverflow(t)
            guard !overflow, age < uptimeWindow else { continue }
            seen.insert(age / heartbeatSlot)
        }
        return Double(seen.count) / Double(slots)
    }

    /// Reputation tier shown next to the score.
    public static func tier(verified: Bool, registered: Bool, score: Int) -> String {
        guard registered else { return "unregistered" }
        guard verified else { return "self-declared" }
        return score >= 70 ? "trusted" : "verified"
    }
}

/// A non-negative integer up to 2^256-1 kept as its decimal text (the chain's uint256),
/// with a Double view for scoring.
public struct UInt256Decimal: Hashable, Sendable, CustomStringConvertible {
    public let digits: String

    public static let zero = UInt256Decimal(unchecked: "0")

    init(unchecked: String) { digits = unchecked }

    /// Parses decimal digits (leading zeros dropped); nil if empty, not digits, or > 78 digits.
    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let trimmed = String(text.drop { $0 == "0" })
        guard trimmed.count <= 78 else { return nil }
        digits = trimmed.isEmpty ? "0" : trimmed
    }

    public var description: String { digits }

    /// Value in POL (wei / 10^18), approximately.
    public var pol: Double { (Double(digits) ?? 0) / 1e18 }
}
