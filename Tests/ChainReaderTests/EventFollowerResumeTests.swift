import ChainReader
import Testing

/// Resuming from a persisted snapshot's block (`Configuration.resume`): the checkpoint's
/// header is checked first; only the chain's own block lets the follower skip the history.
@Suite struct EventFollowerResumeTests {
    static let a = Bytes32(Keccak256.hash("node a"))!
    static let b = Bytes32(Keccak256.hash("node b"))!
    static let wallet = EthereumAddress(hex: "0x2b5ad5c4795c026514f8317c7a215e218dccd6cf")!
    static let events: [UInt64: [RegistryEvent]] = [
        2: [.registered(nodeHash: a, wallet: wallet, name: "a.1bz")],
        15: [.registered(nodeHash: b, wallet: wallet, name: "b.1bz")],
    ]

    @Test func resumesAfterTheCheckpointWhenItIsStillTheChainsBlock() {
        let chain = SimulatedChain(length: 21, events: Self.events)
        let checkpoint = ChainCheckpoint(number: 10, hash: chain.header(10)!.hash)
        var machine = EventFollowerStateMachine(configuration: .init(startBlock: 1, resume: checkpoint))
        #expect(machine.nextAction() == .fetchHeader(10), "the checkpoint is checked before anything else")
        let (events, actions) = chain.drive(&machine)
        #expect(events == [.synced(block: 10), .registered(nodeHash: Self.b, name: "b.1bz", wallet: Self.wallet, block: 15), .synced(block: 20)])
        let ranges = actions.compactMap { if case .fetchRange(let r) = $0 { r } else { nil } }
        #expect(ranges.first?.lowerBound == 11, "history before the checkpoint is not read again")
        #expect(machine.hash(of: 20) == chain.header(20)!.hash)
    }

    /// A reorg while stopped replaced the checkpoint's block: everything is read again.
    @Test func aCheckpointNoLongerOnTheChainRereadsFromTheStartBlock() {
        var chain = SimulatedChain(length: 21, events: Self.events)
        let checkpoint = ChainCheckpoint(number: 10, hash: chain.header(10)!.hash)
        chain.reorg(from: 8, count: 15, fork: "other")
        var machine = EventFollowerStateMachine(configuration: .init(startBlock: 1, resume: checkpoint))
        let (events, _) = chain.drive(&machine)
        #expect(events.first == .reorg(fromBlock: 1))
        #expect(events.contains(.registered(nodeHash: Self.a, name: "a.1bz", wallet: Self.wallet, block: 2)))
        #expect(!events.contains { $0.nodeHash == Self.b }, "b was on the replaced fork")
        #expect(events.last == .synced(block: 22))
    }

    /// A chain shorter than the checkpoint (a reset devnet, another network): the same.
    @Test func aChainThatDoesNotReachTheCheckpointRereadsFromTheStartBlock() {
        let chain = SimulatedChain(length: 6, events: Self.events)
        var machine = EventFollowerStateMachine(
            configuration: .init(startBlock: 1, resume: ChainCheckpoint(number: 10, hash: Self.a)))
        let (events, _) = chain.drive(&machine)
        #expect(events == [.reorg(fromBlock: 1), .registered(nodeHash: Self.a, name: "a.1bz", wallet: Self.wallet, block: 2), .synced(block: 5)])
    }

    /// A failed header fetch waits, then checks the checkpoint again (never skips it).
    @Test func aFailedCheckIsRetriedAfterTheWait() {
        var machine = EventFollowerStateMachine(
            configuration: .init(startBlock: 1, resume: ChainCheckpoint(number: 10, hash: Self.a)))
        machine.failed()
        #expect(machine.nextAction() == .wait)
        machine.waited()
        #expect(machine.nextAction() == .fetchHeader(10))
    }
}
