import DNSEngine

/// Token buckets per client address (`/resolve`): `rate` requests per second, bursts of
/// `burst`. Pure (time passed in, in nanoseconds of a monotonic clock); the gateway
/// holds one behind a lock.
///
/// Memory is bounded: at most `maxClients` buckets; when full, buckets that have refilled
/// (idle clients, indistinguishable from new ones) are dropped, and if none has, the
/// new client is limited rather than the table grown.
struct ClientRateLimiter: Sendable {
    struct Configuration: Sendable, Equatable {
        /// Requests per second per client; 0 turns the limiter off.
        var rate: Double
        var burst: Double
        var maxClients = 65_536
    }

    enum Decision: Equatable, Sendable {
        case allow
        /// Over the rate: try again after this many whole seconds (at least 1).
        case limit(retryAfter: Int)
    }

    private struct Bucket {
        var tokens: Double
        var updated: UInt64
    }

    let configuration: Configuration
    private var buckets: [ClientAddress: Bucket] = [:]

    init(configuration: Configuration) { self.configuration = configuration }

    var clientCount: Int { buckets.count }

    mutating func decide(_ client: ClientAddress, nanoseconds now: UInt64) -> Decision {
        let rate = configuration.rate
        guard rate > 0 else { return .allow }
        var bucket = buckets[client] ?? Bucket(tokens: configuration.burst, updated: now)
        let elapsed = Double(now &- bucket.updated) / 1e9
        bucket.tokens = min(configuration.burst, bucket.tokens + (now >= bucket.updated ? elapsed * rate : 0))
        bucket.updated = max(bucket.updated, now)
        if buckets[client] == nil && buckets.count >= configuration.maxClients {
            evictFull(now: now)
            guard buckets.count < configuration.maxClients else { return .limit(retryAfter: 1) }
        }
        let decision: Decision
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            decision = .allow
        } else {
            decision = .limit(retryAfter: max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))))
        }
        buckets[client] = bucket
        return decision
    }

    /// Drops buckets that have refilled to `burst`: those clients are as good as new.
    private mutating func evictFull(now: UInt64) {
        let (rate, burst) = (configuration.rate, configuration.burst)
        buckets = buckets.filter { _, bucket in
            bucket.tokens + Double(now &- bucket.updated) / 1e9 * rate < burst
        }
    }
}
