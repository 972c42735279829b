/// Requests per second allowed to one endpoint: `rate` tokens a second, at most `burst`
/// saved up. Taking a token may leave the bucket in debt (below zero), so a caller that
/// waited its turn never waits twice; the debt pushes the next caller's turn back.
/// Pure: time is an argument.
struct TokenBucket: Sendable {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var updated: ContinuousClock.Instant?

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
        self.tokens = self.burst
    }

    /// The instant a token is available (now or later).
    mutating func readyAt(_ now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        refill(now)
        guard tokens < 1 else { return now }
        return now + .seconds((1 - tokens) / rate)
    }

    /// Takes one token (possibly going into debt).
    mutating func take(_ now: ContinuousClock.Instant) {
        refill(now)
        tokens -= 1
    }

    private mutating func refill(_ now: ContinuousClock.Instant) {
        if let updated, now > updated {
            let (seconds, attoseconds) = (now - updated).components
            let elapsed = Double(seconds) + Double(attoseconds) * 1e-18
            tokens = min(burst, tokens + elapsed * rate)
        }
        if updated.map({ now > $0 }) ?? true { updated = now }
    }
}
