import ChainReader
import Foundation
import Logging
import NodeRegistry

/// The registry's paged export (`GET /v1/nodes/export`); a protocol so tests can put a
/// fault injector in front.
package protocol RegistryExportSource: Sendable {
    func export(after: NodeHash?, limit: Int) async throws(RegistryClientError) -> NodeExportPage
}

extension RegistryClient: RegistryExportSource {}

/// A cold start's materialisation without a read per node (call mode,
/// docs/performance.md#cold-start-in-bulk): the chain facts from the events the follower
/// already read (`EventChainFacts`; one batch of headers per 500 registration blocks for
/// `registeredAt`) and the registry's records from its export, a page of 2,000 a
/// request. Each record passes the checks a GET's does (`RegistryEntry.verified(nodeHash:)`)
/// and becomes facts through the same code (`NodeResolver.outcome`), so the zone is
/// the one per-node lookups build. A node the export holds no record for is absent, as
/// a GET's 404 says; a node the events do not describe (the follower moved on
/// meanwhile, an alias the events name otherwise) is left to the per-node rounds, and
/// so is everything after a failed page or header batch.
package struct BulkMaterializer: Sendable {
    package typealias Timestamps = @Sendable ([UInt64]) async throws -> [UInt64: UInt64]

    let timestamps: Timestamps
    let registry: (any RegistryExportSource)?
    let resolver: NodeResolver
    let chunk: Int
    let attempts: Int
    let retryInterval: Duration
    let logger: Logger

    package init(
        timestamps: @escaping Timestamps, registry: (any RegistryExportSource)?, resolver: NodeResolver, chunk: Int = 4096,
        attempts: Int = 3, retryInterval: Duration = .seconds(1), logger: Logger
    ) {
        self.timestamps = timestamps
        self.registry = registry
        self.resolver = resolver
        self.chunk = chunk
        self.attempts = attempts
        self.retryInterval = retryInterval
        self.logger = logger
    }

    /// What a run did (logged, and read by tests).
    package struct Report: Sendable, Equatable {
        package var committed = 0
        package var pages = 0
        package var headerBlocks = 0
        /// Left to the per-node rounds (not described by the events, or after a failure).
        package var leftToPerNode = 0
        package var completed = false
    }

    private typealias Outcome = (MaterializedNames.Work, Result<NodeLookupOutcome, UpstreamFailure>?)

    /// Materialises the marked nodes of `zone` at `block` from `facts` (the events from
    /// the start block to `block`) and the registry's export.
    @discardableResult
    package func run(_ zone: MaterializedZone, facts: EventChainFacts, at block: UInt64) async -> Report {
        let started = ContinuousClock.now
        var report = Report()
        let blocks = facts.registrationBlocks.sorted()
        report.headerBlocks = blocks.count
        let times: [UInt64: UInt64]
        do { times = try await timestamps(blocks) } catch {
            logger.warning("bulk materialisation: block timestamps failed; resolving per node", metadata: ["error": "\(error)"])
            return report
        }
        var perNode: [MaterializedNames.Work] = []
        defer {
            report.leftToPerNode += perNode.count
            zone.giveBack(perNode)
        }
        // The export's node hashes (first words): a node marked again after its page (a
        // registry change meanwhile) is resolved per node, not taken as absent below.
        var exported = Set<UInt64>()
        if let registry {
            var cursor: NodeHash? = nil
            var next: Task<NodeExportPage, any Error>? = fetch(registry, after: nil)
            while let pending = next {
                let page: NodeExportPage
                do { page = try await pending.value } catch {
                    logger.warning(
                        "bulk materialisation: registry export failed; the rest per node",
                        metadata: ["after": "\(cursor.map { "\($0)" } ?? "start")", "error": "\(error)"])
                    return report
                }
                report.pages += 1
                next = page.next.map { fetch(registry, after: $0) }
                cursor = page.next
                var entries: [NodeHash: RegistryEntry] = [:]
                for entry in page.entries where entries[entry.nodeHash] == nil {
                    entries[entry.nodeHash] = entry
                    exported.insert(MaterializedNames.HashKey(entry.nodeHash).w0)
                }
                let (now, work) = zone.takeWork(hashes: Array(entries.keys))
                guard now == block else {
                    next?.cancel()
                    perNode += work
                    return report
                }
                let results = await outcomes(work, facts: facts, times: times, entries: entries, at: block, perNode: &perNode)
                zone.commit(results, at: block)
                report.committed += results.count
            }
        }
        // What is still marked and not in the (complete) export has no record: absent.
        while true {
            let (now, taken) = zone.takeWork(limit: chunk)
            if taken.isEmpty { break }
            guard now == block else {
                perNode += taken
                return report
            }
            var work: [MaterializedNames.Work] = []
            for item in taken {
                if exported.contains(MaterializedNames.HashKey(item.hash).w0) { perNode.append(item) } else { work.append(item) }
            }
            let results = await outcomes(work, facts: facts, times: times, entries: [:], at: block, perNode: &perNode)
            zone.commit(results, at: block)
            report.committed += results.count
        }
        report.completed = true
        logger.info(
            "materialised in bulk",
            metadata: [
                "nodes": "\(report.committed)", "registryPages": "\(report.pages)",
                "headerBlocks": "\(report.headerBlocks)", "perNode": "\(perNode.count)",
                "seconds": "\(ContinuousClock.now - started)",
            ])
        return report
    }

    private func fetch(_ registry: any RegistryExportSource, after: NodeHash?) -> Task<NodeExportPage, any Error> {
        let (attempts, interval) = (attempts, retryInterval)
        return Task {
            var attempt = 1
            while true {
                do {
                    return try await registry.export(after: after, limit: NodeExportPage.maxLimit)
                } catch {
                    // A refusal (4xx) would be refused again.
                    guard attempt < attempts, (error as? RegistryClientError)?.kind != .rejected else { throw error }
                    attempt += 1
                    try await Task.sleep(for: interval)
                }
            }
        }
    }

    /// The outcomes of `work` (the records checked on every core); items the facts do
    /// not describe go to `perNode`.
    private func outcomes(
        _ work: [MaterializedNames.Work], facts: EventChainFacts, times: [UInt64: UInt64], entries: [NodeHash: RegistryEntry],
        at block: UInt64, perNode: inout [MaterializedNames.Work]
    ) async -> [Outcome] {
        var ready: [(MaterializedNames.Work, NodeName, Node)] = []
        var results: [Outcome] = []
        for item in work {
            guard let name = item.name else {
                results.append((item, nil))  // nothing to ask for, as per node
                continue
            }
            // The node the events registered under this hash; an alias must be its name
            // (`resolveDNS(alias)` would give this hash), else ask per node.
            guard let node = facts.node(item.hash, timestamps: times) else {
                perNode.append(item)
                continue
            }
            if case .alias(let alias) = name, alias != node.dnsName {
                perNode.append(item)
                continue
            }
            ready.append((item, name, node))
        }
        let resolver = self.resolver
        let slices = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        let size = (ready.count + slices - 1) / slices
        guard size > 0 else { return results }
        return await withTaskGroup(of: [Outcome].self) { group in
            for start in stride(from: 0, to: ready.count, by: size) {
                let slice = ready[start..<min(ready.count, start + size)]
                group.addTask {
                    slice.map { item, name, node in
                        let answer: Result<VerifiedRegistryEntry, RegistryClientError>
                        if let entry = entries[item.hash] {
                            answer = Result { () throws(RegistryClientError) in try entry.verified(nodeHash: item.hash) }
                        } else {
                            answer = .failure(RegistryClientError(kind: .notFound, detail: "not in the registry's export"))
                        }
                        do throws(UpstreamFailure) {
                            return (item, .success(try resolver.outcome(for: name, hash: item.hash, node: node, registry: answer, at: block)))
                        } catch {
                            return (item, .failure(error))
                        }
                    }
                }
            }
            for await part in group { results += part }
            return results
        }
    }
}
