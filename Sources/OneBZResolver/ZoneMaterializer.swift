import Logging
import ServiceLifecycle

/// Resolves the nodes the materialised zone marks (every node once after the first
/// sync, then those each block's events and registry changes touch) with the same
/// `NodeResolver` DNS misses use, at most `concurrency` at a time, and commits them:
/// one round per wake-up (a synced block or a registry change), in chunks.
/// Failed lookups are retried every `retryInterval` until they succeed; the zone goes
/// live (transfers are served) once every node was materialised.
package struct ZoneMaterializer: Service {
    package struct Settings: Sendable {
        /// Lookups in flight at once (`[chain] materialize_concurrency`).
        package var concurrency = 32
        /// Nodes committed together (one serial at most per chunk once live).
        package var chunk = 4096
        package var retryInterval: Duration = .seconds(2)
        /// A cold start with more marked nodes than this materialises in bulk when a
        /// `BulkMaterializer` is given (`[chain] materialize_bulk_threshold`).
        package var bulkThreshold = 1000

        package init() {}
    }

    let zone: MaterializedZone
    let resolver: NodeResolver
    /// Call mode: the cold start's first round without a read per node.
    let bulk: BulkMaterializer?
    let settings: Settings
    let logger: Logger

    package init(
        zone: MaterializedZone, resolver: NodeResolver, bulk: BulkMaterializer? = nil, settings: Settings, logger: Logger
    ) {
        self.zone = zone
        self.resolver = resolver
        self.bulk = bulk
        self.settings = settings
        self.logger = logger
    }

    package func run() async throws {
        try await cancelWhenGracefulShutdown {
            var retrying = false
            var wakeups = zone.wakeups.makeAsyncIterator()
            while !Task.isCancelled {
                if !retrying {
                    guard await wakeups.next() != nil else { return }
                }
                // At most one serial per `serial_min_interval`: wake-ups meanwhile are
                // coalesced (the stream keeps one), their changes committed together.
                let wait = zone.serialWait
                if wait > 0 { try await Task.sleep(for: .nanoseconds(wait)) }
                let failures = await round()
                retrying = failures > 0
                if retrying { try await Task.sleep(for: settings.retryInterval) }
            }
        }
    }

    /// Resolves and commits everything marked now; returns how many lookups failed
    /// (the round stops at the first chunk with failures: they are retried later).
    @discardableResult
    package func round() async -> Int {
        // Nothing is registered before the name set is complete (the first sync, or a
        // restored snapshot). A round begun earlier waited in `takeWork` for the lock
        // while the first sync registered every name, then resolved them one by one,
        // bulk facts untaken (`onebzd zone dump` polls rounds: 1M eth_calls at 1M names).
        guard zone.isComplete else { return 0 }
        if let bulk, await bulkRound(bulk) {
            // What the round built and dropped (the events' facts, the export pages)
            // goes back to the kernel: 815 -> 711 MiB in 132 ms at 1M names.
            FreedHeap.returnToKernel(after: "bulk materialisation", logger: logger)
        }
        while true {
            let (block, work) = zone.takeWork(limit: settings.chunk)
            let results = await resolve(work, at: block)
            let failures = zone.commit(results, at: block)
            if failures > 0 {
                logger.warning(
                    "materialising: lookups failed, retrying", metadata: ["failed": "\(failures)", "of": "\(work.count)"])
                return failures
            }
            if work.isEmpty || zone.pendingWork == 0 { return 0 }
        }
    }

    /// The events' facts are taken once (and freed) whether used or not; returns whether
    /// a bulk round ran (a cold start with more than `bulkThreshold` nodes).
    private func bulkRound(_ bulk: BulkMaterializer) async -> Bool {
        guard let taken = zone.takeEventFacts(), zone.nodeCount > settings.bulkThreshold else { return false }
        await bulk.run(zone, facts: taken.facts, at: taken.block)
        return true
    }

    /// Runs until the zone is live (every node materialised once), for `onebzd zone
    /// dump`: rounds as long as there is work, waiting `retryInterval` after failures.
    package func materializeOnce() async throws {
        while !zone.isLive {
            try Task.checkCancellation()
            if await round() > 0 || !zone.isComplete {
                try await Task.sleep(for: settings.retryInterval)
            }
        }
    }

    private typealias Outcome = (MaterializedNames.Work, Result<NodeLookupOutcome, UpstreamFailure>?)

    private func resolve(_ work: [MaterializedNames.Work], at block: UInt64) async -> [Outcome] {
        guard !work.isEmpty else { return [] }
        let resolver = self.resolver
        // The usual bounded group: `concurrency` children, one more as each finishes.
        // (No nested function capturing the group: a release build of that shape
        // crashed in the runtime's task-group completion, "pure virtual method called".)
        return await withTaskGroup(of: Outcome.self) { group in
            var pending = work.makeIterator()
            for _ in 0..<min(settings.concurrency, work.count) {
                guard let item = pending.next() else { break }
                group.addTask { await Self.lookup(item, resolver: resolver, at: block) }
            }
            var results: [Outcome] = []
            results.reserveCapacity(work.count)
            while let result = await group.next() {
                results.append(result)
                if let item = pending.next() {
                    group.addTask { await Self.lookup(item, resolver: resolver, at: block) }
                }
            }
            return results
        }
    }

    private static func lookup(
        _ item: MaterializedNames.Work, resolver: NodeResolver, at block: UInt64
    ) async -> Outcome {
        guard let name = item.name else { return (item, nil) }
        do throws(UpstreamFailure) {
            return (item, .success(try await resolver.resolve(name, at: block)))
        } catch {
            return (item, .failure(error))
        }
    }
}
