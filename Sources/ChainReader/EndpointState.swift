/// Which endpoint to use next, and what each endpoint has shown it accepts (pure: time
/// and randomness are arguments):
/// - the preferred one unless it is cooling down (after a 429 or a rate-limit error) or
///   out of request tokens (`requestsPerSecond`); then the next one that is ready; when
///   none is, the instant the first becomes ready;
/// - a failure moves the preference to the next endpoint;
/// - a rate limit without Retry-After cools the endpoint down for a backoff that doubles
///   with each limit in a row, with jitter, so several clients do not come back at once;
/// - the largest batch each endpoint accepted (halved when it refuses one);
/// - endpoints excluded for good (they serve another chain) are never picked.
struct EndpointState: Sendable {
    private(set) var preferred = 0
    private(set) var excluded: [Bool]
    private var coolDownUntil: [ContinuousClock.Instant?]
    private let pacers: [RequestPacer?]
    private var rateLimitStreak: [Int]
    private(set) var batchLimits: [Int]
    private var lastID = 0

    /// - Parameter pacers: each endpoint's request budget (nil: unlimited).
    init(count: Int, pacers: [RequestPacer?]? = nil, maxBatchSize: Int = 100) {
        coolDownUntil = Array(repeating: nil, count: count)
        excluded = Array(repeating: false, count: count)
        self.pacers = pacers ?? Array(repeating: nil, count: count)
        rateLimitStreak = Array(repeating: 0, count: count)
        batchLimits = Array(repeating: max(1, maxBatchSize), count: count)
    }

    mutating func nextID() -> Int { nextIDs(1) }

    /// The first of `count` consecutive request ids.
    mutating func nextIDs(_ count: Int) -> Int {
        if lastID > Int.max / 2 { lastID = 0 }
        let first = lastID + 1
        lastID += count
        return first
    }

    /// Every endpoint is excluded: there is none to use.
    var allExcluded: Bool { !excluded.contains(false) }

    /// `index` is never used again (it serves another chain).
    mutating func exclude(_ index: Int) {
        excluded[index] = true
        let count = excluded.count
        if index == preferred, let next = (1..<count).map({ (index + $0) % count }).first(where: { !excluded[$0] }) {
            preferred = next
        }
    }

    /// The endpoint to try, and the instant to wait for when no endpoint is ready now
    /// (cooling down or out of tokens). Does not take a token: `take` does. Excluded
    /// endpoints are skipped (unless all are: see `allExcluded`), and so are those in
    /// `avoiding` (the ones this call already failed on) while another is left: a call
    /// moves through the endpoints even when concurrent calls keep making the one that
    /// failed it preferred again (a lagging endpoint answers eth_blockNumber, not
    /// eth_getProof at the agreed head).
    func pick(now: ContinuousClock.Instant, avoiding: Set<Int> = []) -> (Int, ContinuousClock.Instant?) {
        let count = coolDownUntil.count
        let usable = (0..<count).filter { !excluded[$0] }
        let avoid = usable.allSatisfy(avoiding.contains) ? [] : avoiding
        var best: (index: Int, at: ContinuousClock.Instant)?
        for step in 0..<count {
            let index = (preferred + step) % count
            if excluded[index], !allExcluded { continue }
            if avoid.contains(index) { continue }
            let at = readyAt(index, now: now)
            if at <= now { return (index, nil) }
            if best.map({ at < $0.at }) ?? true { best = (index, at) }
        }
        return (best!.index, best!.at)
    }

    private func readyAt(_ index: Int, now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        let cooled = coolDownUntil[index].map { max($0, now) } ?? now
        let token = pacers[index]?.readyAt(now) ?? now
        return max(cooled, token)
    }

    /// Picks the endpoint as `pick` does and takes its request token at once (so that
    /// concurrent callers queue behind each other): send when the instant returned has
    /// come (nil: now).
    mutating func reserve(now: ContinuousClock.Instant, avoiding: Set<Int> = []) -> (Int, ContinuousClock.Instant?) {
        let (index, readyAt) = pick(now: now, avoiding: avoiding)
        take(index, now: now)
        return (index, readyAt)
    }

    /// Another endpoint than `excluding` that is ready now (not resting, with budget),
    /// in order of preference, its token taken; nil when none is.
    func hedgeTarget(excluding: Int, now: ContinuousClock.Instant) -> Int? {
        let count = coolDownUntil.count
        for step in 0..<count {
            let index = (preferred + step) % count
            guard index != excluding, !excluded[index], readyAt(index, now: now) <= now else { continue }
            take(index, now: now)
            return index
        }
        return nil
    }

    /// Takes `index`'s next request token; the instant it is due (nil: now).
    func reserveToken(_ index: Int, now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard let pacer = pacers[index] else { return nil }
        let readyAt = pacer.readyAt(now)
        pacer.take(now)
        return readyAt > now ? readyAt : nil
    }

    /// One request is sent to `index` now.
    func take(_ index: Int, now: ContinuousClock.Instant) {
        pacers[index]?.take(now)
    }

    mutating func succeeded(_ index: Int) {
        coolDownUntil[index] = nil
        rateLimitStreak[index] = 0
        preferred = index
    }

    mutating func failed(_ index: Int, coolDownUntil until: ContinuousClock.Instant?) {
        if let until { coolDownUntil[index] = until }
        if index == preferred {
            let count = coolDownUntil.count
            preferred = (1...count).map { (index + $0) % count }.first { !excluded[$0] } ?? (index + 1) % count
        }
    }

    /// `index` said "rate limited": it rests for `retryAfter`, or without one for `base`
    /// doubling with each limit in a row up to `cap`, times `jitter` (0.5...1).
    /// Returns the rest.
    mutating func rateLimited(
        _ index: Int, retryAfter: Duration?, base: Duration, cap: Duration, jitter: Double,
        now: ContinuousClock.Instant
    ) -> Duration {
        rateLimitStreak[index] += 1
        var rest = retryAfter ?? base
        if retryAfter == nil {
            for _ in 1..<min(rateLimitStreak[index], 16) { rest = min(rest * 2, cap) }
            rest = min(rest, cap) * min(1, max(0.5, jitter))
        }
        failed(index, coolDownUntil: now + rest)
        return rest
    }

    /// `index` refused a batch of `size` calls: the next ones are at most `limit`
    /// (smaller than `size`; 1 sends every call alone). Returns the new limit.
    mutating func refusedBatch(_ index: Int, size: Int, limit: Int?) -> Int {
        let next = max(1, min(limit ?? size / 2, size - 1, batchLimits[index]))
        batchLimits[index] = next
        return next
    }
}
