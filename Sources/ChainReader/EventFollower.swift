import Logging
import ServiceLifecycle

/// Follows BizNodeRegistry's events (DESIGN.md, Resolution 5): a `Service` whose
/// `run()` polls the chain until cancelled or shut down gracefully, driving an
/// `EventFollowerStateMachine`, and hands each `FollowerEvent` to the consumer in chain
/// order. The consumer is awaited before the next event (back-pressure).
///
/// Either pass a handler:
/// ```swift
/// let follower = EventFollower(registry: registry, configuration: .init(startBlock: deployBlock)) { event in
///     switch event {
///     case .registered(_, let name): cache.drop(name: name)
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

        public init(startBlock: UInt64) { self.startBlock = startBlock }

        var machine: EventFollowerStateMachine.Configuration {
            .init(
                startBlock: startBlock, confirmations: useFinalizedTag ? 0 : confirmations, maxRange: maxRange,
                history: history)
        }
    }

    public typealias Handler = @Sendable (FollowerEvent) async -> Void

    public let registry: BizNodeRegistry
    public let configuration: Configuration
    private let logger: Logger
    private let handler: Handler
    private let onFinish: @Sendable () -> Void

    public convenience init(
        registry: BizNodeRegistry, configuration: Configuration,
        logger: Logger = Logger(label: "onebz.chain.follower"), handler: @escaping Handler
    ) {
        self.init(registry: registry, configuration: configuration, logger: logger, handler: handler, onFinish: {})
    }

    private init(
        registry: BizNodeRegistry, configuration: Configuration, logger: Logger, handler: @escaping Handler,
        onFinish: @escaping @Sendable () -> Void
    ) {
        self.registry = registry
        self.configuration = configuration
        self.logger = logger
        self.handler = handler
        self.onFinish = onFinish
    }

    /// A follower whose events arrive on an AsyncStream (one consumer; unbounded buffer,
    /// the follower does not wait for the consumer).
    public static func makeStream(
        registry: BizNodeRegistry, configuration: Configuration,
        logger: Logger = Logger(label: "onebz.chain.follower")
    ) -> (EventFollower, AsyncStream<FollowerEvent>) {
        let (stream, continuation) = AsyncStream<FollowerEvent>.makeStream()
        let follower = EventFollower(
            registry: registry, configuration: configuration, logger: logger,
            handler: { continuation.yield($0) }, onFinish: { continuation.finish() })
        return (follower, stream)
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
        logger.info("following registry events", metadata: ["contract": "\(registry.address)", "from": "\(configuration.startBlock)"])
        while true {
            try Task.checkCancellation()
            let action = machine.nextAction()
            do {
                switch action {
                case .wait:
                    try await Task.sleep(for: configuration.pollInterval)
                    machine.waited()
                case .fetchHead:
                    machine.headReceived(try await registry.blockNumber(configuration.useFinalizedTag ? .finalized : .latest))
                case .fetchRange(let range):
                    // Headers before logs: if the chain reorganises in between, the logs
                    // are newer than the remembered hash of `last`, and the next range's
                    // parent check reports the reorg (logs first could hide it).
                    let first = try await header(range.lowerBound)
                    let last = range.count == 1 ? first : try await header(range.upperBound)
                    let logs = try await registry.logs(from: range.lowerBound, to: range.upperBound)
                    try await deliver(machine.rangeReceived(range, logs: logs, first: first, last: last))
                case .fetchHeader(let number):
                    let header = try await registry.block(number)
                    try await deliver(machine.headerReceived(number, header))
                }
            } catch let error as JSONRPCError where error.isRangeTooLarge {
                if case .fetchRange(let range) = action {
                    machine.rangeTooLarge(range)
                    logger.info("eth_getLogs range too large, shrinking", metadata: ["blocks": "\(machine.maxRange)"])
                } else {
                    machine.failed()
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("follower poll failed, retrying", metadata: ["action": "\(action)", "error": "\(error)"])
                machine.failed()
            }
        }
    }

    private func header(_ number: UInt64) async throws -> BlockHeader {
        guard let header = try await registry.block(number) else {
            throw JSONRPCError(.rpc, method: "eth_getBlockByNumber", endpoint: "(any)", message: "header not found: block \(number)")
        }
        return header
    }

    private func deliver(_ events: [FollowerEvent]) async throws {
        for event in events {
            switch event {
            case .reorg(let block): logger.notice("chain reorganised", metadata: ["fromBlock": "\(block)"])
            case .synced(let block): logger.debug("synced", metadata: ["block": "\(block)"])
            default: break
            }
            await handler(event)
        }
    }
}
