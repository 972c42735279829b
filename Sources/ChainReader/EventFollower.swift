import Logging
import Metrics
import ServiceLifecycle

/// Follows BizNodeRegistry's events (docs/design.md#chain): a `Service` whose `run()`
/// polls the chain until cancelled or shut down gracefully, driving an
/// `EventFollowerStateMachine`, and hands each `FollowerEvent` to the consumer in chain
/// order. The consumer is awaited before the next event (back-pressure).
///
/// Either pass a handler:
/// ```swift
/// let follower = EventFollower(registry: registry, configuration: .init(startBlock: deployBlock)) { event in
///     switch event {
///     case .registered(_, let name, _, _): cache.drop(name: name)
///     case .verified(let h), .stakeAdded(let h, _), .trustUpdated(let h, _): cache.drop(nodeHash: h)
///     case .reorg: cache.dropAll()
///     case .synced(let block): serial.advance(to: block)
///     }
/// }
/// // add `follower` to the ServiceGroup
/// ```
/// or take a stream: `let (follower, events) = EventFollower.makeStream(...)` and
/// `for await event in events { ... }` (the stream ends when `run()` returns).
public final class EventFollower: Service, Sendable {
    public struct Configuration: Sendable, Hashable {
        /// The contract's deploy block (or a later block whose state you already have).
        public var startBlock: UInt64
        /// Blocks to stay below the head; 0 follows the head.
        public var confirmations: UInt64 = 0
        /// Follow the endpoint's `finalized` block instead of latest - confirmations
        /// (Polygon's milestones finalize within seconds).
        public var useFinalizedTag = false
        /// Time between polls once caught up (and after a failure).
        public var pollInterval: Duration = .seconds(2)
        /// Largest eth_getLogs range; halved whenever the endpoint refuses a range.
        public var maxRange: UInt64 = 1000
        /// Block hashes remembered for reorg detection.
        public var history: Int = 256
        /// Resume after this block (a persisted snapshot's), checked first: see
        /// `EventFollowerStateMachine`.
        public var resume: ChainCheckpoint?

        public init(startBlock: UInt64) { self.startBlock = startBlock }

        var machine: EventFollowerStateMachine.Configuration {
            .init(
                startBlock: startBlock, confirmations: useFinalizedTag ? 0 : confirmations, maxRange: maxRange,
                history: history, resume: resume)
        }
    }

    public typealias Handler = @Sendable (FollowerEvent) async -> Void

    public let registry: BizNodeRegistry
    public let configuration: Configuration
    /// Proof mode: what the follower reports is checked against blocks `blocks`' quorum
    /// agrees on (`checkAgainstQuorum`); nil believes the preferred endpoint.
    public let blocks: BlockAgreement?
    private let logger: Logger
    private let handler: Handler
    private let rejectedRanges = Counter(label: "onebz_chain_follower_rejected_total")
    private let rangeShrinks = Counter(label: "onebz_chain_follower_range_shrinks_total")
    private let rangeSize = Gauge(label: "onebz_chain_follower_log_range_blocks")
    private let onFinish: @Sendable () -> Void
    /// The blocks most recently reported synced, with their hashes (for zone snapshots).
    public let checkpoints = SyncedCheckpoints()

    public convenience init(
        registry: BizNodeRegistry, configuration: Configuration, blocks: BlockAgreement? = nil,
        logger: Logger = Logger(label: "onebz.chain.follower"), handler: @escaping Handler
    ) {
        self.init(
            registry: registry, configuration: configuration, blocks: blocks, logger: logger, handler: handler,
            onFinish: {})
    }

    private init(
        registry: BizNodeRegistry, configuration: Configuration, blocks: BlockAgreement?, logger: Logger,
        handler: @escaping Handler, onFinish: @escaping @Sendable () -> Void
    ) {
        self.registry = registry
        self.configuration = configuration
        self.blocks = blocks
        self.logger = logger
        self.handler = handler
        self.onFinish = onFinish
    }

    /// A follower whose events arrive on an AsyncStream (one consumer; unbounded buffer,
    /// the follower does not wait for the consumer).
    public static func makeStream(
        registry: BizNodeRegistry, configuration: Configuration, blocks: BlockAgreement? = nil,
        logger: Logger = Logger(label: "onebz.chain.follower")
    ) -> (EventFollower, AsyncStream<FollowerEvent>) {
        let (stream, continuation) = AsyncStream<FollowerEvent>.makeStream()
        let follower = EventFollower(
            registry: registry, configuration: configuration, blocks: blocks, logger: logger,
            handler: { continuation.yield($0) }, onFinish: { continuation.finish() })
        return (follower, stream)
    }

    /// The range of `action` to ask again in halves after `error`: a provider's cap refused
    /// it, or it timed out (a node scanning a busy stretch more slowly than the timeout:
    /// the same range would time out again, leaving the node computing an answer nobody
    /// reads). Nil: not a range, or another failure (retried after a poll interval).
    static func rangeToShrink(_ action: EventFollowerStateMachine.Action, _ error: JSONRPCError) -> ClosedRange<UInt64>? {
        guard case .fetchRange(let range) = action else { return nil }
        if error.isRangeTooLarge { return range }
        return error.kind == .timeout && range.count > 1 ? range : nil
    }

    /// Polls until the task is cancelled or the service group shuts down gracefully.
    public func run() async throws {
        defer { onFinish() }
        do {
            try await cancelWhenGracefulShutdown { try await self.loop() }
        } catch is CancellationError {
            return
        }
    }

    private func loop() async throws {
        var machine = EventFollowerStateMachine(configuration: configuration.machine)
        logger.info(
            "following registry events",
            metadata: [
                "contract": "\(registry.address)", "from": "\(configuration.startBlock)",
                "resume": "\(configuration.resume.map { "\($0.number)" } ?? "none")",
            ])
        while true {
            try Task.checkCancellation()
            let action = machine.nextAction()
            rangeSize.record(Int64(clamping: machine.maxRange))
            do {
                switch action {
                case .wait:
                    try await Task.sleep(for: configuration.pollInterval)
                    machine.waited()
                case .fetchHead:
                    if let blocks {
                        // Proof mode: the quorum's head, not the preferred endpoint's.
                        machine.headReceived(try await blocks.quorumHead(finalized: configuration.useFinalizedTag))
                    } else {
                        machine.headReceived(
                            try await registry.blockNumber(configuration.useFinalizedTag ? .finalized : .latest))
                    }
                case .fetchRange(let range):
                    // Headers before logs: if the chain reorganises in between, the logs
                    // are newer than the remembered hash of `last`, and the next range's
                    // parent check reports the reorg (logs first could hide it).
                    // One batch to one endpoint (BizNodeRegistry.range): a lagging
                    // endpoint cannot pair another node's headers with its own empty logs.
                    let (first, last, logs) = try await registry.range(from: range.lowerBound, to: range.upperBound)
                    if let blocks { try await Self.checkAgainstQuorum(blocks, first: first, last: last, logs: logs) }
                    let events = machine.rangeReceived(range, logs: logs, first: first, last: last)
                    try await deliver(events, machine)
                case .fetchHeader(let number):
                    let header = try await registry.block(number)
                    let events = machine.headerReceived(number, header)
                    try await deliver(events, machine)
                }
            } catch let error as JSONRPCError where Self.rangeToShrink(action, error) != nil {
                machine.rangeTooLarge(Self.rangeToShrink(action, error)!)
                rangeShrinks.increment()
                logger.log(
                    level: error.isRangeTooLarge ? .info : .warning,
                    error.isRangeTooLarge ? "eth_getLogs range too large, shrinking" : "eth_getLogs range timed out, shrinking",
                    metadata: ["blocks": "\(machine.maxRange)", "error": "\(error)"])
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as FollowerQuorumError {
                rejectedRanges.increment()
                registry.client.distrustPreferredEndpoint()
                logger.warning(
                    "the follower's endpoint reported blocks or logs the quorum does not agree with; retrying",
                    metadata: ["action": "\(action)", "error": "\(error)"])
                machine.failed()
            } catch {
                logger.warning("follower poll failed, retrying", metadata: ["action": "\(action)", "error": "\(error)"])
                machine.failed()
            }
        }
    }

    /// Proof mode: the range's first and last blocks, and every block a log comes from,
    /// must be the blocks the quorum agrees on at those heights (so `synced(last)` names
    /// an agreed block, which the lookups at it then find agreed already). Logs are not
    /// proven (a receipt proof per log would be): an endpoint can still hide or invent
    /// events of agreed blocks, which only delays or causes cache invalidations.
    package static func checkAgainstQuorum(
        _ blocks: BlockAgreement, first: BlockHeader, last: BlockHeader, logs: [RegistryLog]
    ) async throws {
        var claimed: [UInt64: Bytes32] = [:]
        for header in [first, last] {
            if let other = claimed[header.number], other != header.hash {
                throw FollowerQuorumError(number: header.number, claimed: header.hash, agreed: other)
            }
            claimed[header.number] = header.hash
        }
        for log in logs {
            if let other = claimed[log.blockNumber], other != log.blockHash {
                throw FollowerQuorumError(number: log.blockNumber, claimed: log.blockHash, agreed: other)
            }
            claimed[log.blockNumber] = log.blockHash
        }
        for (number, hash) in claimed.sorted(by: { $0.key < $1.key }) {
            var agreed = try await blocks.agreed(number)
            if agreed.hash != hash {
                // Agreed before a reorg (the reorg event that would forget it comes after
                // this check), or a lie: agree afresh before deciding.
                blocks.forget(from: number)
                agreed = try await blocks.agreed(number)
            }
            guard agreed.hash == hash else { throw FollowerQuorumError(number: number, claimed: hash, agreed: agreed.hash) }
        }
    }

    /// Hands `events` to the consumer; a synced block's hash is recorded first.
    private func deliver(_ events: [FollowerEvent], _ machine: EventFollowerStateMachine) async throws {
        for event in events {
            if case .synced(let block) = event, let hash = machine.hash(of: block) {
                checkpoints.record(ChainCheckpoint(number: block, hash: hash))
            }
            switch event {
            case .reorg(let block): logger.notice("chain reorganised", metadata: ["fromBlock": "\(block)"])
            case .synced(let block): logger.debug("synced", metadata: ["block": "\(block)"])
            default: break
            }
            await handler(event)
        }
    }
}
