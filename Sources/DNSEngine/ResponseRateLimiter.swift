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
/// The table is a fixed array of buckets indexed by a keyed hash of the netblock
/// (SipHash-2-4, a random key per limiter, so collisions cannot be chosen from outside):
/// memory is bounded whatever the number of clients. Netblocks that share a bucket share
/// its budget: a colliding netblock charges the bucket, it never refills it (before,
/// alternating two colliding netblocks reset the budget each time and was never limited).
///
/// Loopback clients are exempt by default (`exempt`): a loopback source cannot be
/// spoofed from off the host, so it can neither be reflected at nor amplify.
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
        /// Clients never limited (`rrl_exempt`).
        package var exempt: [AddressPrefix] = Self.loopback

        /// 200 responses per second per netblock, as NSD's default `rrl-ratelimit`.
        package static let defaultRate = 200
        package static let loopback = [AddressPrefix("127.0.0.0/8")!, AddressPrefix("::1/128")!]

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
    private let key: SipHash24.Key

    /// `key`: the bucket hash's key; random unless a test fixes it.
    package init(configuration: Configuration, key: SipHash24.Key? = nil) {
        precondition(configuration.responsesPerSecond > 0, "rate must be positive")
        self.configuration = configuration
        var random = SystemRandomNumberGenerator()
        self.key = key ?? SipHash24.Key((0..<16).map { _ in UInt8.random(in: 0...255, using: &random) })
        var size = 1
        while size < max(1, configuration.tableSize) { size <<= 1 }
        buckets = Array(repeating: Bucket(), count: size)
        mask = size - 1
    }

    /// Whether to send a response to `client` at `nanoseconds` (a monotonic clock).
    package mutating func decide(client: ClientAddress, nanoseconds: UInt64) -> Decision {
        for prefix in configuration.exempt where prefix.contains(client) { return .send }
        return decide(netblock: netblock(client), nanoseconds: nanoseconds)
    }

    package mutating func decide(netblock: UInt64, nanoseconds: UInt64) -> Decision {
        let second = nanoseconds / 1_000_000_000
        let rate = configuration.responsesPerSecond
        let index = Int(truncatingIfNeeded: bucketHash(netblock)) & mask
        var bucket = buckets[index]
        if !bucket.used || second > bucket.second {
            // A new second: a full second's worth again (the burst is one second), for
            // whichever netblock holds the bucket now.
            if bucket.netblock != netblock { bucket.limited = 0 }
            bucket = Bucket(netblock: netblock, second: second, tokens: rate, limited: bucket.limited, used: true)
        }
        // Within a second, every netblock hashing here spends this bucket's budget.
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

    /// The client's netblock as a 64-bit key: the address masked to the prefix, with
    /// the family in the top byte. Exact for IPv4 and IPv6 prefixes up to /56; a longer
    /// IPv6 prefix is hashed with the limiter's key (so its collisions are not chosen).
    package func netblock(_ address: ClientAddress) -> UInt64 {
        address.withBytes { raw in
            if raw.count == 4 {
                let host = raw.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                let bits = min(32, max(0, configuration.ipv4PrefixLength))
                let masked = bits == 0 ? 0 : host & (UInt32.max << (32 - bits))
                return UInt64(masked) | (4 << 56)
            }
            let bits = min(128, max(0, configuration.ipv6PrefixLength))
            // The masked address as two big-endian words (no allocation per packet).
            var words: (UInt64, UInt64) = (0, 0)
            for index in 0..<16 {
                let keep = max(0, min(8, bits - index * 8))
                let byte = UInt64(keep == 0 ? 0 : raw[index] & UInt8(truncatingIfNeeded: 0xFF << (8 - keep)))
                if index < 8 { words.0 = words.0 << 8 | byte } else { words.1 = words.1 << 8 | byte }
            }
            if bits <= 56 { return words.0 >> 8 | (6 << 56) }
            return withUnsafeBytes(of: words) { SipHash24.hash(key: key, $0) } | (6 << 56)
        }
    }

    /// The bucket of a netblock: keyed, so which netblocks collide is not known outside.
    @inline(__always)
    private func bucketHash(_ netblock: UInt64) -> UInt64 {
        withUnsafeBytes(of: netblock.littleEndian) { SipHash24.hash(key: key, $0) }
    }
}
