import ChainReader
import Testing

/// A chain in memory for driving the pure state machine: headers linked by parent
/// hash, registry logs per block, and an optional eth_getLogs range limit. Not an RPC
/// fake: the machine does no I/O, this only feeds it what an endpoint would return.
struct SimulatedChain {
    var headers: [BlockHeader] = []
    var logs: [UInt64: [RegistryLog]] = [:]
    var logRangeLimit: UInt64?

    init(length: Int, events: [UInt64: [RegistryEvent]] = [:]) {
        append(count: length, fork: "main", events: events)
    }

    var head: UInt64 { headers.last!.number }

    static func hash(_ fork: String, _ number: UInt64) -> Bytes32 { Bytes32(Keccak256.hash("\(fork)/\(number)"))! }

    /// Appends `count` blocks (block 0 first when empty) on fork `fork`.
    mutating func append(count: Int, fork: String, events: [UInt64: [RegistryEvent]] = [:]) {
        for _ in 0..<count {
            let number = UInt64(headers.count)
            let parent = headers.last?.hash ?? .zero
            let header = BlockHeader(number: number, hash: Self.hash(fork, number), parentHash: parent, timestamp: number)
            headers.append(header)
            logs[number] = (events[number] ?? []).enumerated().map { index, event in
                RegistryLog(
                    event: event, blockNumber: number, blockHash: header.hash, logIndex: UInt64(index),
                    transactionHash: nil)
            }
        }
    }

    /// Replaces blocks `from...` by `count` new ones on fork `fork`.
    mutating func reorg(from: UInt64, count: Int, fork: String, events: [UInt64: [RegistryEvent]] = [:]) {
        headers.removeLast(headers.count - Int(from))
        for number in logs.keys where number >= from { logs[number] = nil }
        append(count: count, fork: fork, events: events)
    }

    func header(_ number: UInt64) -> BlockHeader? { number < headers.count ? headers[Int(number)] : nil }

    /// Runs the machine until it wants to wait; returns the events and the actions taken.
    func drive(_ machine: inout EventFollowerStateMachine, maxSteps: Int = 1000)
        -> (events: [FollowerEvent], actions: [EventFollowerStateMachine.Action])
    {
        var events: [FollowerEvent] = []
        var actions: [EventFollowerStateMachine.Action] = []
        for _ in 0..<maxSteps {
            let action = machine.nextAction()
            actions.append(action)
            switch action {
            case .wait:
                return (events, actions)
            case .fetchHead:
                machine.headReceived(head)
            case .fetchRange(let range):
                if let limit = logRangeLimit, UInt64(range.count) > limit {
                    machine.rangeTooLarge(range)
                    continue
                }
                let found = range.flatMap { logs[$0] ?? [] }
                events += machine.rangeReceived(
                    range, logs: found, first: header(range.lowerBound)!, last: header(range.upperBound)!)
            case .fetchHeader(let number):
                events += machine.headerReceived(number, header(number))
            }
        }
        Issue.record("the machine did not settle in \(maxSteps) steps")
        return (events, actions)
    }
}

@Suite struct EventFollowerStateMachineTests {
    static let a = Bytes32(Keccak256.hash("node a"))!
    static let b = Bytes32(Keccak256.hash("node b"))!
    static let wallet = EthereumAddress(hex: "0x2b5ad5c4795c026514f8317c7a215e218dccd6cf")!

    struct Progress: Sendable, CustomTestStringConvertible {
        let label: String
        let length: Int
        let start: UInt64
        let confirmations: UInt64
        let maxRange: UInt64
        let endpointLimit: UInt64?
        /// Expected last synced block.
        let synced: UInt64?
        var testDescription: String { label }
    }

    static let progress: [Progress] = [
        Progress(label: "normal", length: 21, start: 1, confirmations: 0, maxRange: 1000, endpointLimit: nil, synced: 20),
        Progress(label: "from a later deploy block", length: 21, start: 8, confirmations: 0, maxRange: 1000, endpointLimit: nil, synced: 20),
        Progress(label: "3 confirmations", length: 21, start: 1, confirmations: 3, maxRange: 1000, endpointLimit: nil, synced: 17),
        Progress(label: "more confirmations than blocks", length: 3, start: 1, confirmations: 5, maxRange: 1000, endpointLimit: nil, synced: nil),
        Progress(label: "range capped by config", length: 21, start: 1, confirmations: 0, maxRange: 4, endpointLimit: nil, synced: 20),
        Progress(label: "range refused by endpoint", length: 21, start: 1, confirmations: 0, maxRange: 16, endpointLimit: 3, synced: 20),
        Progress(label: "one block at a time", length: 6, start: 0, confirmations: 1, maxRange: 1, endpointLimit: nil, synced: 4),
    ]

    @Test(arguments: progress)
    func followsTheChain(_ p: Progress) {
        var chain = SimulatedChain(
            length: p.length,
            events: [
                2: [.registered(nodeHash: Self.a, wallet: Self.wallet, name: "a.1bz")],
                9: [.verified(nodeHash: Self.a), .stakeAdded(nodeHash: Self.a, amount: 5)],
                18: [.registered(nodeHash: Self.b, wallet: Self.wallet, name: "b.1bz")],
            ])
        chain.logRangeLimit = p.endpointLimit
        var machine = EventFollowerStateMachine(
            configuration: .init(startBlock: p.start, confirmations: p.confirmations, maxRange: p.maxRange))
        let (events, actions) = chain.drive(&machine)

        let limit = min(p.maxRange, p.endpointLimit ?? .max)
        let ranges = actions.compactMap { if case .fetchRange(let r) = $0 { r } else { nil } }
        let accepted = ranges.filter { UInt64($0.count) <= limit }
        #expect(accepted.allSatisfy { UInt64($0.count) <= limit })
        // The accepted ranges tile start...synced without gaps or overlaps.
        if let synced = p.synced {
            #expect(accepted.first?.lowerBound == p.start)
            #expect(zip(accepted, accepted.dropFirst()).allSatisfy { $0.upperBound + 1 == $1.lowerBound })
            #expect(accepted.last?.upperBound == synced)
            #expect(events.last == .synced(block: synced))
        } else {
            #expect(accepted.isEmpty && events.isEmpty)
        }
        let upTo = p.synced ?? 0
        var expected: [FollowerEvent] = []
        if p.start <= 2 && upTo >= 2 { expected.append(.registered(nodeHash: Self.a, name: "a.1bz", wallet: Self.wallet, block: 2)) }
        if p.start <= 9 && upTo >= 9 { expected += [.verified(nodeHash: Self.a), .stakeAdded(nodeHash: Self.a, amount: 5)] }
        if p.start <= 18 && upTo >= 18 { expected.append(.registered(nodeHash: Self.b, name: "b.1bz", wallet: Self.wallet, block: 18)) }
        #expect(events.filter { $0.nodeHash != nil } == expected)
        #expect(!events.contains { if case .reorg = $0 { true } else { false } })
        if let endpointLimit = p.endpointLimit { #expect(machine.maxRange <= endpointLimit) }

        // New blocks: the next poll delivers only what is new.
        machine.waited()
        chain.append(count: 2, fork: "main", events: [UInt64(p.length): [.verified(nodeHash: Self.b)]])
        let (more, _) = chain.drive(&machine)
        if p.synced != nil {
            #expect(more.filter { $0.nodeHash != nil }.count <= 1)
            #expect(more.last == .synced(block: p.synced! + 2))
        }
    }

    struct Reorg: Sendable, CustomTestStringConvertible {
        let label: String
        let confirmations: UInt64
        let maxRange: UInt64
        /// The first block replaced, and how many new blocks follow it.
        let from: UInt64
        let newBlocks: Int
        let history: Int
        /// Expected `reorg(fromBlock:)`: the block after the newest remembered block
        /// still on the chain (remembered: ends of ranges and blocks with logs).
        let reported: UInt64
        var testDescription: String { label }
    }

    static let reorgs: [Reorg] = [
        Reorg(label: "last block replaced", confirmations: 0, maxRange: 1, from: 20, newBlocks: 3, history: 256, reported: 20),
        Reorg(label: "three blocks replaced", confirmations: 0, maxRange: 1, from: 18, newBlocks: 5, history: 256, reported: 18),
        Reorg(label: "replaced by a longer chain, big ranges", confirmations: 0, maxRange: 1000, from: 15, newBlocks: 8, history: 256, reported: 3),
        Reorg(label: "with confirmations", confirmations: 2, maxRange: 1, from: 17, newBlocks: 6, history: 256, reported: 17),
        Reorg(label: "deeper than the history", confirmations: 0, maxRange: 1, from: 10, newBlocks: 12, history: 4, reported: 1),
    ]

    @Test(arguments: reorgs)
    func detectsReorgs(_ r: Reorg) {
        var chain = SimulatedChain(
            length: 21,
            events: [
                2: [.registered(nodeHash: Self.a, wallet: Self.wallet, name: "a.1bz")],
                19: [.registered(nodeHash: Self.b, wallet: Self.wallet, name: "b.1bz")],
            ])
        var machine = EventFollowerStateMachine(
            configuration: .init(startBlock: 1, confirmations: r.confirmations, maxRange: r.maxRange, history: r.history))
        let (first, _) = chain.drive(&machine)
        #expect(first.last == .synced(block: 20 - r.confirmations))

        // Replace blocks from r.from; the new fork registers b at a different block.
        let newB = r.from + 1
        chain.reorg(
            from: r.from, count: r.newBlocks, fork: "fork",
            events: [newB: [.registered(nodeHash: Self.b, wallet: Self.wallet, name: "b2.1bz")]])
        machine.waited()
        let (events, _) = chain.drive(&machine)
        let reorgs = events.filter { if case .reorg = $0 { true } else { false } }
        #expect(reorgs == [.reorg(fromBlock: r.reported)])
        let newHead = chain.head - r.confirmations
        #expect(events.last == .synced(block: newHead))
        // After the reorg, everything from the reported block on is delivered again.
        let after = Array(events.drop { if case .reorg = $0 { false } else { true } }.dropFirst())
        var expected: [FollowerEvent] = []
        if r.reported <= 2 { expected.append(.registered(nodeHash: Self.a, name: "a.1bz", wallet: Self.wallet, block: 2)) }
        if r.from > 19 && r.reported <= 19 { expected.append(.registered(nodeHash: Self.b, name: "b.1bz", wallet: Self.wallet, block: 19)) }
        if newB <= newHead { expected.append(.registered(nodeHash: Self.b, name: "b2.1bz", wallet: Self.wallet, block: newB)) }
        #expect(after.filter { $0.nodeHash != nil } == expected)
        #expect(machine.nextBlock == newHead + 1)
    }

    @Test func laggingHeadIsWaitedOutNotAReorg() {
        var chain = SimulatedChain(length: 11)
        var machine = EventFollowerStateMachine(configuration: .init(startBlock: 1))
        _ = chain.drive(&machine)
        #expect(machine.nextBlock == 11)
        machine.waited()
        machine.headReceived(7)  // a backend behind the load balancer
        #expect(machine.nextAction() == .wait)
        machine.waited()
        chain.append(count: 1, fork: "main")
        let (events, _) = chain.drive(&machine)
        #expect(events == [.synced(block: 11)])
    }

    @Test func inconsistentFetchIsRetriedAfterAWait() {
        let chain = SimulatedChain(length: 6, events: [3: [.verified(nodeHash: Self.a)]])
        var machine = EventFollowerStateMachine(configuration: .init(startBlock: 1))
        machine.headReceived(5)
        #expect(machine.nextAction() == .fetchRange(1...5))
        // A log whose block hash is not the one of block 5's header: the chain moved.
        let stray = RegistryLog(
            event: .verified(nodeHash: Self.b), blockNumber: 5, blockHash: SimulatedChain.hash("other", 5), logIndex: 0,
            transactionHash: nil)
        let events = machine.rangeReceived(1...5, logs: [stray], first: chain.header(1)!, last: chain.header(5)!)
        #expect(events.isEmpty)
        #expect(machine.nextAction() == .wait)
        #expect(machine.nextBlock == 1)
        machine.waited()
        #expect(machine.nextAction() == .fetchHead)
        var retry = machine
        let (again, _) = chain.drive(&retry)
        #expect(again == [.verified(nodeHash: Self.a), .synced(block: 5)])
    }

    @Test func failureWaitsThenStartsOver() {
        var machine = EventFollowerStateMachine(configuration: .init(startBlock: 1))
        machine.headReceived(5)
        machine.failed()
        #expect(machine.nextAction() == .wait)
        machine.waited()
        #expect(machine.nextAction() == .fetchHead)
    }
}
