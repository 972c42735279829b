/// Response-rate limiting against reflection and amplification, as NSD and Knot do it:
/// UDP responses per second per client netblock (IPv4 /24, IPv6 /56 by default). Over
/// the rate, responses are dropped, except every `slip`-th one, which is sent truncated
/// (TC=1, no records) so that a real client behind a spoofed flood retries over TCP,
/// which cannot be spoofed. TCP is never limited.
///
/// Pure and single-threaded: each UDP worker (one socket and thread per core) owns one,
/// with time passed in; the engine asks it between planning and writing an answer. With
/// SO_REUSEPORT the kernel hashes a client's 4-tuple to one socket, so a netblock's
/// traffic from many ports may be counted on several sockets: the effective limit is
/// then up to `rate` x sockets (documented in docs/robustness.md).
///
/// The table is a fixed array of buckets indexed by a hash of the netblock (Knot's
/// design): memory is bounded whatever the number of clients; a collision makes two
/// netblocks share a bucket (and its budget) until one of them goes quiet.
package struct ResponseRateLimiter: Sendable {
    package struct Configuration: Sendable, Equatable {
        /// Responses per second per netblock; also the burst.
        package var responsesPerSecond: Int
        /// Every slip-th limited response is sent truncated; 0 drops all, 1 truncates all.
        package var slip: Int = 2
        package var ipv4PrefixLength: Int = 24
        package var ipv6PrefixLength: Int = 56
        /// Number of buckets (rounded up to a power of two).
        package var tableSize: Int = 1 << 16

        package init(responsesPerSecond: Int) { self.responsesPerSecond = responsesPerSecond }
    }

    package enum Decision: Equatable, Sendable {
        case send
        /// Send the slipped form instead (TC=1 and no records, or BADCOOKIE with a
        /// fresh cookie when the client sent one): `ResponsePlan.slipped`.
        case slip
        case drop
    }

    private struct Bucket {
        var netblock: UInt64 = 0
        var second: UInt64 = 0
        var tokens: Int = 0
        var limited: Int = 0
        var used = false
    }

    package let configuration: Configuration
    private var buckets: [Bucket]
    private let mask: Int

    package init(configuration: Configuration) {
        precondition(configuration.responsesPerSecond > 0, "rate must be positive")
        self.configuration = configuration
        var size = 1
        while size < max(1, configuration.tableSize) { size <<= 1 }
        buckets = Array(repeating: Bucket(), count: size)
        mask = size - 1
    }

    /// Whether to send a response to `client` at `nanoseconds` (a monotonic clock).
    package mutating func decide(client: ClientAddress, nanoseconds: UInt64) -> Decision {
        decide(netblock: Self.netblock(client, configuration: configuration), nanoseconds: nanoseconds)
    }

    package mutating func decide(netblock: UInt64, nanoseconds: UInt64) -> Decision {
        let second = nanoseconds / 1_000_000_000
        let rate = configuration.responsesPerSecond
        let index = Int(truncatingIfNeeded: Self.mix(netblock)) & mask
        var bucket = buckets[index]
        if !bucket.used || bucket.netblock != netblock {
            // A new netblock (or one that took over a quiet bucket): full budget.
            bucket = Bucket(netblock: netblock, second: second, tokens: rate, limited: 0, used: true)
        } else if second > bucket.second {
            // A new second: a full second's worth again (the burst is one second).
            bucket.tokens = rate
            bucket.second = second
        }
        let decision: Decision
        if bucket.tokens > 0 {
            bucket.tokens -= 1
            decision = .send
        } else {
            bucket.limited &+= 1
            let slip = configuration.slip
            decision = slip > 0 && bucket.limited % slip == 0 ? .slip : .drop
        }
        buckets[index] = bucket
        return decision
    }

    /// The client's netblock as a 64-bit key (address masked to the prefix, family
    /// mixed in).
    package static func netblock(_ address: ClientAddress, configuration: Configuration) -> UInt64 {
        address.withBytes { raw in
            if raw.count == 4 {
                let host = raw.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                let bits = min(32, max(0, configuration.ipv4PrefixLength))
                let masked = bits == 0 ? 0 : host & (UInt32.max << (32 - bits))
                return UInt64(masked) | (4 << 56)
            }
            let bits = min(128, max(0, configuration.ipv6PrefixLength))
            var key: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over the masked prefix
            for (index, byte) in raw.enumerated() {
                let keep = max(0, min(8, bits - index * 8))
                let maskedByte = keep == 0 ? 0 : byte & UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
                key = (key ^ UInt64(maskedByte)) &* 0x100_0000_01b3
            }
            return key | (6 << 56)
        }
    }

    /// SplitMix64's finaliser: spreads netblocks that differ in a few bits.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
