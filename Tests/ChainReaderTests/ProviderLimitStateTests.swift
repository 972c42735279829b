import Testing

@testable import ChainReader

/// What real providers do to a follower, fed to the pure parts (no sockets, no sleeps):
/// eth_getLogs range and result caps (ranges split and grow back, never a gap or a
/// duplicate), request budgets per endpoint, rate-limit backoff with jitter, batch
/// limits, and providers' own error wordings.
@Suite struct ProviderLimitStateTests {
    static let wallet = EthereumAddress(hex: "0x2b5ad5c4795c026514f8317c7a215e218dccd6cf")!

    /// A provider cap on eth_getLogs: too many blocks, or too many results, refused
    /// with that provider's words.
    struct Cap: Sendable, CustomTestStringConvertible {
        let label: String
        let maxBlocks: UInt64?
        let maxResults: Int?
        let message: String
        var testDescription: String { label }
    }

    static let caps: [Cap] = [
        Cap(label: "Bor: exceed maximum block range", maxBlocks: 37, maxResults: nil, message: "exceed maximum block range: 37"),
        Cap(label: "Infura: more than N results", maxBlocks: nil, maxResults: 4, message: "query returned more than 10000 results. Try with this block range [0x1, 0x2]."),
        Cap(label: "Alchemy: response size", maxBlocks: 100, maxResults: 6, message: "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range"),
        Cap(label: "public: block range too large", maxBlocks: 10, maxResults: nil, message: "block range too large"),
    ]

    /// 3000 blocks, a registration every 7th block in a busy stretch (1000...1300, two
    /// per block there), sparse elsewhere; the follower starts with ranges of 1000.
    static func chain() -> SimulatedChain {
        var events: [UInt64: [RegistryEvent]] = [:]
        for block in stride(from: UInt64(3), to: 3000, by: 7) {
            let busy = (1000...1300).contains(block)
            events[block] = (0..<(busy ? 2 : 1)).map { i in
                .registered(nodeHash: Bytes32(Keccak256.hash("n\(block)/\(i)"))!, wallet: wallet, name: "n\(block)-\(i).1bz")
            }
        }
        for block in stride(from: UInt64(1002), through: 1300, by: 2) {
            events[block, default: []].append(.verified(nodeHash: Bytes32(Keccak256.hash("v\(block)"))!))
        }
        return SimulatedChain(length: 3000, events: events)
    }

    @Test(arguments: caps)
    func cappedLogRangesSplitAndGrowBackWithoutGapOrDuplicate(_ cap: Cap) throws {
        let chain = Self.chain()
        var machine = EventFollowerStateMachine(configuration: .init(startBlock: 1, maxRange: 1000))
        var delivered: [FollowerEvent] = []
        var refused = 0
        var sizes: [UInt64] = []
        for _ in 0..<20_000 {
            let action = machine.nextAction()
            if action == .wait { break }
            switch action {
            case .fetchHead: machine.headReceived(chain.head)
            case .fetchRange(let range):
                let logs = range.flatMap { chain.logs[$0] ?? [] }
                let error = JSONRPCError(.rpc, method: "eth_getLogs", endpoint: "x", message: cap.message, rpcCode: -32000)
                if (cap.maxBlocks.map { UInt64(range.count) > $0 } ?? false) || (cap.maxResults.map { logs.count > $0 } ?? false) {
                    #expect(error.isRangeTooLarge && !error.isRateLimited && !error.isRetryable)
                    machine.rangeTooLarge(range)
                    refused += 1
                    continue
                }
                sizes.append(UInt64(range.count))
                delivered += machine.rangeReceived(
                    range, logs: logs, first: chain.header(range.lowerBound)!, last: chain.header(range.upperBound)!)
            case .fetchHeader(let number): delivered += machine.headerReceived(number, chain.header(number))
            case .wait: break
            }
        }
        let truth = (1...chain.head).flatMap { chain.logs[$0] ?? [] }.map { FollowerEvent($0) }
        let events = delivered.filter { if case .synced = $0 { false } else { true } }
        #expect(events == truth, "every event exactly once, in chain order")
        #expect(delivered.last == .synced(block: chain.head))
        #expect(refused > 0)
        let accepted = sizes.dropLast()  // the last range ends at the head, whatever its size
        if let maxBlocks = cap.maxBlocks {
            #expect(sizes.allSatisfy { $0 <= maxBlocks })
            if cap.maxResults == nil {
                // A fixed block cap: ranges stay above half of it (a regrowth attempt is
                // refused and halved back, never shrinking further).
                #expect(accepted.allSatisfy { $0 * 2 > maxBlocks }, "\(sizes)")
            }
        }
        if cap.maxResults != nil {
            // A result cap met in the busy stretch: after it, ranges grow back.
            let smallest = try #require(accepted.min())
            #expect(accepted.drop(while: { $0 != smallest }).contains { $0 > smallest * 2 }, "\(sizes)")
        }
        // Bounded work: not one request per block.
        #expect(sizes.count + refused < 800, "\(sizes.count) ranges, \(refused) refused")
    }

    @Test func providersWordingsAreClassified() {
        func rpc(_ code: Int, _ message: String) -> JSONRPCError {
            JSONRPCError(.rpc, method: "eth_getLogs", endpoint: "x", message: message, rpcCode: code)
        }
        for error in [
            rpc(-32005, "query returned more than 10000 results"), rpc(-32602, "block range is too wide"),
            rpc(-32000, "exceed maximum block range: 2000"), rpc(-32000, "Log response size exceeded."),
            rpc(-32600, "eth_getLogs is limited to a 10,000 range"), rpc(-32000, "Block range limit exceeded."),
            rpc(35, "ranges over 10000 blocks are not supported on freetier"),
        ] {
            #expect(error.isRangeTooLarge && !error.isRateLimited, "\(error.message)")
        }
        for error in [
            rpc(-32005, "rate limit exceeded"), rpc(-32005, "daily request count exceeded, request rate limited"),
            rpc(429, "Your app has exceeded its compute units per second capacity."),
            rpc(-32029, "too many requests"), rpc(-32000, "project ID request rate exceeded"),
            JSONRPCError(.rateLimited, method: "eth_call", endpoint: "x", message: "HTTP 429", httpStatus: 429),
        ] {
            #expect(error.isRateLimited && !error.isRangeTooLarge && error.isRetryable, "\(error.message)")
        }
        #expect(rpc(-32600, "batch size too large: max 10").isBatchRefusal)
        #expect(rpc(-32600, "batch size too large: max 10").statedLimit == 10)
        #expect(rpc(-32000, "Batch requests are not supported").isBatchRefusal)
        #expect(!rpc(-32005, "rate limit exceeded").isBatchRefusal)
    }

    @Test func requestBudgetSpreadsOverEndpointsThenWaits() {
        let clock = ContinuousClock()
        let now = clock.now
        let pacers = (0..<2).map { RequestPacer.shared(for: "test://budget/\($0)", rate: 10, burst: 2) }
        let state = EndpointState(count: 2, pacers: pacers)
        var picked: [Int] = []
        for _ in 0..<4 {
            let (index, wait) = state.pick(now: now)
            #expect(wait == nil)
            state.take(index, now: now)
            picked.append(index)
        }
        #expect(picked == [0, 0, 1, 1], "the preferred endpoint's burst, then the other's")
        let (_, wait) = state.pick(now: now)
        let delay = try! #require(wait) - now
        #expect(delay > .milliseconds(90) && delay <= .milliseconds(100), "one token at 10/s: \(delay)")
        // A second client of the same endpoint shares the budget.
        let other = EndpointState(count: 1, pacers: [RequestPacer.shared(for: "test://budget/0", rate: 10, burst: 2)])
        #expect(other.pick(now: now).1 != nil)
        other.take(0, now: now + .seconds(1))
    }

    @Test func rateLimitBackoffDoublesWithJitterAndResets() {
        let now = ContinuousClock.now
        var state = EndpointState(count: 2)
        var rests: [Duration] = []
        for _ in 0..<6 {
            rests.append(state.rateLimited(0, retryAfter: nil, base: .milliseconds(500), cap: .seconds(10), jitter: 1, now: now))
        }
        #expect(rests == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10)])
        #expect(state.pick(now: now).0 == 1, "the other endpoint meanwhile")
        state.succeeded(0)
        #expect(state.rateLimited(0, retryAfter: nil, base: .milliseconds(500), cap: .seconds(10), jitter: 0.5, now: now) == .milliseconds(250))
        #expect(state.rateLimited(1, retryAfter: .seconds(3), base: .milliseconds(500), cap: .seconds(10), jitter: 0.5, now: now) == .seconds(3))
        // Both resting: the earliest one, and when.
        let (index, wait) = state.pick(now: now)
        #expect(index == 0 && wait == now + .milliseconds(250))
    }

    /// A lagging endpoint answers eth_blockNumber (concurrent calls succeed there and make
    /// it preferred again) but not eth_getProof at the agreed head: a call that failed on
    /// it moves on to the others instead of asking it again, and only when every
    /// endpoint failed it starts over.
    @Test func aCallMovesPastTheEndpointsItFailedOnWhileOthersSucceedThere() {
        let now = ContinuousClock.now
        var state = EndpointState(count: 3)
        var failed: Set<Int> = []
        var tried: [Int] = []
        for _ in 0..<4 {
            let (index, wait) = state.reserve(now: now, avoiding: failed)
            #expect(wait == nil)
            tried.append(index)
            failed.insert(index)
            state.failed(index, coolDownUntil: nil)
            state.succeeded(0)  // a concurrent eth_blockNumber on the lagging endpoint
        }
        #expect(tried == [0, 1, 2, 0], "each endpoint once, then a new round")
        state.exclude(2)
        #expect(state.pick(now: now, avoiding: [0]).0 == 1)
        #expect(state.pick(now: now, avoiding: [0, 1]).0 == 0, "every usable endpoint failed: start over")
    }

    /// A range is asked again in halves when a cap refuses it or when it times out (a node
    /// slow over a busy stretch); a one-block range that times out, a header, or another
    /// failure waits for the next poll instead.
    @Test func capsAndTimeoutsShrinkARangeOtherFailuresDoNot() {
        let timeout = JSONRPCError(.timeout, method: "eth_getLogs", endpoint: "x", message: "no answer within 1 s")
        let cap = JSONRPCError(.rpc, method: "eth_getLogs", endpoint: "x", message: "block range too large", rpcCode: -32005)
        let reset = JSONRPCError(.transport, method: "eth_getLogs", endpoint: "x", message: "connection reset")
        #expect(EventFollower.rangeToShrink(.fetchRange(10...60), timeout) == 10...60)
        #expect(EventFollower.rangeToShrink(.fetchRange(10...60), cap) == 10...60)
        #expect(EventFollower.rangeToShrink(.fetchRange(10...10), timeout) == nil, "one block cannot be halved")
        #expect(EventFollower.rangeToShrink(.fetchRange(10...60), reset) == nil)
        #expect(EventFollower.rangeToShrink(.fetchHeader(10), timeout) == nil)
    }

    @Test func batchLimitsShrinkPerEndpoint() {
        var state = EndpointState(count: 2, maxBatchSize: 100)
        #expect(state.refusedBatch(0, size: 100, limit: 10) == 10)
        #expect(state.refusedBatch(0, size: 10, limit: nil) == 5)
        #expect(state.refusedBatch(0, size: 5, limit: 1000) == 4, "a stated limit above what was refused")
        #expect(state.refusedBatch(0, size: 2, limit: nil) == 1)
        #expect(state.batchLimits == [1, 100])
    }
}
