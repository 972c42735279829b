import NIOConcurrencyHelpers

/// One endpoint's request budget (`requestsPerSecond`), shared by every client of the
/// process that talks to that endpoint (the follower's failover client and proof mode's
/// per-endpoint clients): the bound is per endpoint, not per client.
final class RequestPacer: Sendable {
    private let bucket: NIOLockedValueBox<TokenBucket>

    private init(rate: Double, burst: Double) {
        bucket = NIOLockedValueBox(TokenBucket(rate: rate, burst: burst))
    }

    private static let registry = NIOLockedValueBox<[String: RequestPacer]>([:])

    /// The pacer of the endpoint `name` (scheme://host:port plus the URL's path, so two
    /// API keys on one host are two budgets) at `rate`; a pacer made earlier at another
    /// rate is replaced.
    static func shared(for name: String, rate: Double, burst: Double?) -> RequestPacer {
        let burst = burst ?? max(1, rate)
        return registry.withLockedValue { pacers in
            if let pacer = pacers[name], pacer.rate == rate, pacer.burst == burst { return pacer }
            let pacer = RequestPacer(rate: rate, burst: burst)
            pacers[name] = pacer
            return pacer
        }
    }

    var rate: Double { bucket.withLockedValue { $0.rate } }
    var burst: Double { bucket.withLockedValue { $0.burst } }

    func readyAt(_ now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        bucket.withLockedValue { $0.readyAt(now) }
    }

    func take(_ now: ContinuousClock.Instant) {
        bucket.withLockedValue { $0.take(now) }
    }
}
