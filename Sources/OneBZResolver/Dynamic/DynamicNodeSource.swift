import Atomics
import ChainReader
import DNSWire
import Logging
import Metrics
import NIOCore
import NodeRegistry
import ZoneCache

/// Answers node names from chain + registry through two caches (DESIGN.md, Resolution,
/// caching and invalidation): `facts` per name (what the upstreams said, also used by
/// the JSON gateway) and `answers` per (name, type), pre-rendered so a hit is a lookup
/// and a patch. Both are tagged by node hash and by name for invalidation.
///
/// Miss path: one upstream lookup per name at a time (singleflight), bounded in number;
/// upstream failure serves the stale answer (RFC 8767) or SERVFAIL, never NXDOMAIN.
package final class DynamicNodeSource: DynamicAnswerSource, NodeLookupService {
    package struct Settings: Sendable {
        package var positiveTTL: UInt32 = 300
        package var staleTTL: UInt32 = 30
        package var limits = AnswerCacheLimits(
            maxEntries: 1_000_000, maxBytes: 512 << 20, maxStaleNanoseconds: 86_400 * 1_000_000_000)
        package var maxInFlight = 1024

        package init() {}
    }

    package enum Tag: Hashable, Sendable {
        case node(Bytes32)
        case name(NodeName)
    }


    private let resolver: NodeResolver
    private let head: ChainHead
    private let settings: Settings
    private let renderer: ManagedAtomic<RendererBox>
    private let answers: AnswerCache<AnswerKey, Tag, DynamicAnswer>
    private let facts: AnswerCache<NodeName, Tag, NodeLookupOutcome>
    private let flight: SingleFlight<NodeName, NodeLookupOutcome>
    /// Bumped by every invalidation: a lookup that started before one does not cache
    /// its (possibly outdated) result.
    private let generation = ManagedAtomic<UInt64>(0)
    private let now: @Sendable () -> UInt64
    private let logger: Logger
    private let metrics = DynamicMetrics()

    package init(
        resolver: NodeResolver, head: ChainHead, renderingEngine: QueryEngine, settings: Settings,
        logger: Logger = Logger(label: "onebz.dynamic"),
        now: @escaping @Sendable () -> UInt64 = { NIODeadline.now().uptimeNanoseconds }
    ) {
        self.resolver = resolver
        self.head = head
        self.settings = settings
        self.renderer = ManagedAtomic(RendererBox(NodeAnswerRenderer(engine: renderingEngine)))
        self.answers = AnswerCache(limits: settings.limits, cost: { 64 + $0.template.tail.count })
        self.facts = AnswerCache(limits: settings.limits, cost: { _ in 512 })
        self.flight = SingleFlight(maxInFlight: settings.maxInFlight)
        self.now = now
        self.logger = logger
    }

    /// Replaces the engine negative answers take their SOA from (the serial follows
    /// the chain). Cached answers keep the SOA they were rendered with.
    package func updateRenderingEngine(_ engine: QueryEngine) {
        renderer.store(RendererBox(NodeAnswerRenderer(engine: engine)), ordering: .releasing)
    }

    // MARK: DynamicAnswerSource

    package func cachedAnswer(name: Name, type: RRType) -> DynamicLookupResult {
        name.wire.withUnsafeBytes { cachedAnswer(wire: $0, type: type) }
    }

    /// The hot path: the key is built inline from the query bytes, nothing allocated.
    package func cachedAnswer(wire qname: UnsafeRawBufferPointer, type: RRType) -> DynamicLookupResult {
        guard let key = AnswerKey(wire: qname, type: type),
            case .fresh(let answer, _) = answers.lookup(key, now: now())
        else { return .miss }
        metrics.hits.increment()
        return .hit(answer)
    }

    package func resolve(name: Name, type: RRType) async -> DynamicAnswer {
        let render = renderer.load(ordering: .acquiring).renderer
        guard let key = name.wire.withUnsafeBytes({ AnswerKey(wire: $0, type: type) }),
            let nodeName = NodeName(dnsName: name)
        else {
            metrics.invalidNames.increment()
            return render.engine.dynamicNameError()
        }
        let owner = name.lowercased
        let start = now()
        switch answers.lookup(key, now: start) {
        case .fresh(let answer, _): return answer  // filled while this query waited
        case .stale, .miss: break
        }
        let started = generation.load(ordering: .acquiring)
        do {
            let outcome = try await lookupFacts(nodeName)
            let answer = render.answer(outcome, name: owner, type: type, ttl: settings.positiveTTL)
            // An invalidation while we looked up may have made the outcome outdated:
            // answer this query with it, but do not keep it.
            if generation.load(ordering: .acquiring) == started {
                answers.insert(
                    key, answer, ttlNanoseconds: ttlNanoseconds(outcome), tags: tags(nodeName, outcome), now: now())
            }
            return answer
        } catch {
            return staleOrFailure(
                key: key, owner: owner, nodeName: nodeName, type: type, error: error, render: render)
        }
    }

    // MARK: NodeLookupService (the JSON gateway)

    package func lookupNode(_ text: String) async throws(NodeLookupError) -> NodeInfo {
        let nodeName = try NodeName(userText: text)
        let outcome: NodeLookupOutcome
        var ttl = settings.positiveTTL
        do {
            outcome = try await lookupFacts(nodeName)
        } catch {
            guard case .stale(let stale) = facts.lookup(nodeName, now: now()) else {
                throw .unavailable("\(error)")
            }
            metrics.staleServed.increment()
            outcome = stale
            ttl = settings.staleTTL
        }
        guard case .found(let f) = outcome else { throw .notFound }
        let metadata = f.verifiedMetadata
        return NodeInfo(
            name: nodeName.description, nodeID: f.nodeID?.hex ?? "", nodeHash: f.nodeHash.hex,
            publicKey: metadata?.publicKey.pem, ipv4: metadata?.ipv4 ?? [], ipv6: metadata?.ipv6 ?? [],
            trust: f.trust, verified: f.node.verified, wallet: f.node.wallet.hex, block: f.block,
            metadataVerified: metadata != nil, ttl: ttl)
    }

    // MARK: Invalidation

    /// Drops every answer about a node (NodeVerified, StakeAdded, TrustUpdated, a
    /// registry change, and NodeRegistered: a node-id name's negative entry).
    package func invalidate(nodeHash: Bytes32) {
        generation.wrappingIncrement(ordering: .acquiringAndReleasing)
        let dropped = answers.removeAll(tagged: .node(nodeHash)) + facts.removeAll(tagged: .node(nodeHash))
        metrics.invalidations.increment(by: dropped)
    }

    /// Drops every answer for a name, negative ones included (NodeRegistered).
    package func invalidate(name: NodeName) {
        generation.wrappingIncrement(ordering: .acquiringAndReleasing)
        let dropped = answers.removeAll(tagged: .name(name)) + facts.removeAll(tagged: .name(name))
        metrics.invalidations.increment(by: dropped)
    }

    /// Drops everything (a reorg: the orphaned blocks' effects are not tracked per name).
    package func invalidateAll() {
        generation.wrappingIncrement(ordering: .acquiringAndReleasing)
        answers.removeAll()
        facts.removeAll()
    }

    package var cachedAnswerCount: Int { answers.count }

    // MARK: Internals

    /// Facts for a name: the cache, or one upstream lookup shared by every waiter.
    private func lookupFacts(_ name: NodeName) async throws -> NodeLookupOutcome {
        if case .fresh(let outcome, _) = facts.lookup(name, now: now()) { return outcome }
        metrics.misses.increment()
        let result = try await flight.run(name) { [self] in
            guard head.isSynced else { throw UpstreamFailure(.notSynced, "the chain follower has not caught up yet") }
            let block = head.current
            let started = generation.load(ordering: .acquiring)
            let timer = now()
            let outcome: NodeLookupOutcome
            do {
                outcome = try await resolver.resolve(name, at: block)
            } catch {
                let failure = error as? UpstreamFailure ?? UpstreamFailure(.chain, "\(error)")
                metrics.upstreamFailure(failure.upstream)
                logger.warning(
                    "upstream lookup failed",
                    metadata: ["name": "\(name)", "upstream": "\(failure.upstream.rawValue)", "error": "\(failure.detail)"])
                throw failure
            }
            metrics.upstreamLatency.recordNanoseconds(Int64(clamping: now() &- timer))
            if case .found(let f) = outcome, case .rejected(let why) = f.metadata {
                metrics.metadataRejected.increment()
                logger.warning("registry metadata rejected", metadata: ["name": "\(name)", "reason": "\(why)"])
            }
            if generation.load(ordering: .acquiring) == started {
                facts.insert(name, outcome, ttlNanoseconds: ttlNanoseconds(outcome), tags: tags(name, outcome), now: now())
            }
            return outcome
        }
        if result.started { metrics.upstreamLookups.increment() }
        return result.value
    }

    private func staleOrFailure(
        key: AnswerKey, owner: Name, nodeName: NodeName, type: RRType, error: any Error,
        render: NodeAnswerRenderer
    ) -> DynamicAnswer {
        let at = now()
        // RFC 8767 4: answer from stale data with a short TTL, and keep that answer for
        // the stale TTL so a dead upstream is not asked again by every query.
        if case .stale(let outcome) = facts.lookup(nodeName, now: at) {
            metrics.staleServed.increment()
            let answer = render.answer(outcome, name: owner, type: type, ttl: settings.staleTTL)
            answers.insert(
                key, answer, ttlNanoseconds: UInt64(settings.staleTTL) * 1_000_000_000, tags: tags(nodeName, outcome),
                now: at)
            return answer
        }
        metrics.servfail.increment()
        if error is SingleFlightError { metrics.overloaded.increment() }
        return .serverFailure
    }

    private func ttlNanoseconds(_ outcome: NodeLookupOutcome) -> UInt64 {
        switch outcome {
        case .found: UInt64(settings.positiveTTL) * 1_000_000_000
        // RFC 2308 5: negative answers live for the SOA minimum.
        case .nonexistent: UInt64(renderer.load(ordering: .relaxed).renderer.engine.negativeTTL) * 1_000_000_000
        }
    }

    private func tags(_ name: NodeName, _ outcome: NodeLookupOutcome) -> [Tag] {
        switch (outcome, name) {
        case (.found(let f), _): [.name(name), .node(f.nodeHash)]
        // A node-id name's hash is known, so its registration drops the negative entry.
        case (.nonexistent, .nodeID(let id)): [.name(name), .node(NodeHash(nodeID: id).bytes32)]
        case (.nonexistent, .alias): [.name(name)]
        }
    }

    private final class RendererBox: AtomicReference, Sendable {
        let renderer: NodeAnswerRenderer
        init(_ renderer: NodeAnswerRenderer) { self.renderer = renderer }
    }
}

/// The dynamic path's metrics (swift-metrics; exported by the gateway's /metrics).
private struct DynamicMetrics: Sendable {
    let hits = Counter(label: "onebz_dynamic_cache_total", dimensions: [("result", "hit")])
    let misses = Counter(label: "onebz_dynamic_cache_total", dimensions: [("result", "miss")])
    let staleServed = Counter(label: "onebz_dynamic_cache_total", dimensions: [("result", "stale")])
    let servfail = Counter(label: "onebz_dynamic_servfail_total")
    let overloaded = Counter(label: "onebz_dynamic_overloaded_total")
    let invalidNames = Counter(label: "onebz_dynamic_invalid_names_total")
    let invalidations = Counter(label: "onebz_cache_invalidated_entries_total")
    let upstreamLookups = Counter(label: "onebz_upstream_lookups_total")
    let upstreamLatency = Metrics.Timer(label: "onebz_upstream_lookup_duration_seconds")
    let metadataRejected = Counter(label: "onebz_metadata_rejected_total")
    let chainErrors = Counter(label: "onebz_upstream_errors_total", dimensions: [("upstream", "chain")])
    let registryErrors = Counter(label: "onebz_upstream_errors_total", dimensions: [("upstream", "registry")])
    let notSynced = Counter(label: "onebz_upstream_errors_total", dimensions: [("upstream", "not-synced")])

    func upstreamFailure(_ upstream: UpstreamFailure.Upstream) {
        switch upstream {
        case .chain: chainErrors.increment()
        case .registry: registryErrors.increment()
        case .notSynced: notSynced.increment()
        }
    }
}
