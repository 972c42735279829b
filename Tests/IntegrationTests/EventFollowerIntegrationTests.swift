import ChainReader
import Foundation
import Logging
import Testing
import TestSupport

/// Collects a follower's events from its stream so a test can wait for them.
actor EventLog {
    private(set) var events: [FollowerEvent] = []

    func append(_ event: FollowerEvent) { events.append(event) }

    /// Waits until `predicate` holds for the events so far; fails the test on timeout.
    @discardableResult
    func wait(
        for what: String, timeout: Duration = .seconds(30), _ predicate: @Sendable ([FollowerEvent]) -> Bool
    ) async throws -> [FollowerEvent] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if predicate(events) { return events }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestProcessError("timed out waiting for \(what); events so far: \(events)")
    }
}

extension FollowerEvent {
    /// A registration with the wallet zeroed (the devnet's sending wallet is not what these tests check).
    var walletBlind: FollowerEvent {
        guard case .registered(let hash, let name, _, let block) = self else { return self }
        return .registered(nodeHash: hash, name: name, wallet: EthereumAddress(unchecked: Array(repeating: 0, count: 20)), block: block)
    }

    static func registered(_ hash: Bytes32, _ name: String, block: UInt64) -> FollowerEvent {
        FollowerEvent.registered(nodeHash: hash, name: name, wallet: EthereumAddress(unchecked: Array(repeating: 0, count: 20)), block: block)
    }
}

/// Starts a follower on `registry`, feeding an EventLog; cancel the returned task to stop.
func follow(_ registry: BizNodeRegistry, configuration: EventFollower.Configuration) -> (Task<Void, Error>, EventLog) {
    let log = EventLog()
    let (follower, stream) = EventFollower.makeStream(registry: registry, configuration: configuration)
    let task = Task {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await follower.run() }
            group.addTask { for await event in stream { await log.append(event) } }
            try await group.waitForAll()
        }
    }
    return (task, log)
}

@Suite struct EventFollowerIntegrationTests {
    /// Register by transaction, follow, then make a reorg with evm_snapshot/evm_revert and
    /// new blocks: the follower reports it and the events of the new chain.
    @Test func followsEventsAndReportsAReorg() async throws {
        let devnet = try await Devnet.start(label: "chain-reorg", sample: false)
        defer { devnet.stop() }
        let registry = SharedDevnet.registry(devnet)
        var configuration = EventFollower.Configuration(startBlock: devnet.deployBlock)
        configuration.pollInterval = .milliseconds(100)
        let (task, log) = follow(registry, configuration: configuration)
        defer { task.cancel() }

        let head = try await devnet.blockNumber()
        try await log.wait(for: "initial sync") { $0.contains(.synced(block: head)) }

        let a = TestNode(prefix: "a")
        let ra = try await devnet.registerNode(nodeHash: a.nodeHash.hex, name: a.name)
        try await devnet.verifyNode(nodeHash: a.nodeHash.hex)
        let events = try await log.wait(for: "a registered and verified") { $0.contains(.verified(nodeHash: a.nodeHash)) }
        #expect(
            events.filter { $0.nodeHash != nil }.map(\.walletBlind)
                == [.registered(a.nodeHash, a.name, block: ra.blockNumber), .verified(nodeHash: a.nodeHash)])
        #expect(ra.succeeded)

        // Fork point: B is registered on the branch that will be abandoned.
        let snapshot = try await devnet.snapshot()
        let forkBase = try await devnet.blockNumber()
        let b = TestNode(prefix: "b")
        let rb = try await devnet.registerNode(nodeHash: b.nodeHash.hex, name: b.name)
        try await log.wait(for: "b registered") { $0.contains(.synced(block: rb.blockNumber)) }
        #expect(try await registry.resolveDNS(b.name) == b.nodeHash)

        // Revert, and build a longer chain where C is registered instead.
        try await devnet.revert(to: snapshot)
        let c = TestNode(prefix: "c")
        let rc = try await devnet.registerNode(nodeHash: c.nodeHash.hex, name: c.name)
        #expect(rc.blockNumber == rb.blockNumber && rc.blockHash != rb.blockHash)
        try await devnet.mine(2)
        let newHead = try await devnet.blockNumber()
        let all = try await log.wait(for: "reorg and c") { $0.contains(.synced(block: newHead)) }

        let afterFork = Array(all.drop { $0 != .synced(block: rb.blockNumber) })
        #expect(afterFork.contains(.reorg(fromBlock: forkBase + 1)))
        let replayed = afterFork.drop { if case .reorg = $0 { false } else { true } }.filter { $0.nodeHash != nil }
        #expect(replayed.map(\.walletBlind) == [.registered(c.nodeHash, c.name, block: rc.blockNumber)])
        #expect(try await registry.resolveDNS(b.name) == nil)
        #expect(try await registry.resolveDNS(c.name) == c.nodeHash)

        task.cancel()
        _ = await task.result  // run() returns on cancellation
    }

    /// An endpoint that caps eth_getLogs at 4 blocks: the follower shrinks its range and
    /// still delivers every sample registration, with 2 confirmations.
    @Test func shrinksRangeOnCappedEndpointAndWaitsForConfirmations() async throws {
        let devnet = try await Devnet.start(label: "chain-capped", sample: true, maxLogRange: 4)
        defer { devnet.stop() }
        try await devnet.mine(10)
        let registry = SharedDevnet.registry(devnet)
        var configuration = EventFollower.Configuration(startBlock: devnet.deployBlock)
        configuration.pollInterval = .milliseconds(100)
        configuration.maxRange = 1000
        configuration.confirmations = 2
        let (task, log) = follow(registry, configuration: configuration)
        defer { task.cancel() }
        let head = try await devnet.blockNumber()
        let events = try await log.wait(for: "sync to head - 2") { $0.contains(.synced(block: head - 2)) }
        let registered = events.compactMap { if case .registered(let h, let name, _, _) = $0 { (h.hex, name) } else { nil } }
        #expect(registered.map(\.1) == ["shashi.1bz", "acme.1bz", "bob.1bz"])
        #expect(registered.map(\.0) == devnet.sampleNodes.map(\.nodeHash))
        #expect(events.contains(.verified(nodeHash: Bytes32(hex: devnet.sample("shashi.1bz")!.nodeHash)!)))
        #expect(events.contains(.stakeAdded(nodeHash: Bytes32(hex: devnet.sample("acme.1bz")!.nodeHash)!, amount: UInt256(5 * Devnet.ether))))
        #expect(!events.contains(.synced(block: head)))
        try await devnet.mine(2)
        try await log.wait(for: "sync to the new head - 2") { $0.contains(.synced(block: head)) }
    }
}
