import Atomics
import ChainReader
import DNSWire
import Logging
import Metrics
import NIOCore
import NodeRegistry
import ZoneCache

/// Answers node names from chain + registry through one cache (DESIGN.md, Resolution,
/// caching and invalidation): per name, a ``CachedNode`` holding the facts (what the
/// upstreams said, also used by the JSON gateway and for stale answers) and the answers
/// rendered from them per type, so a hit is a lookup and a patch. Entries expire with
/// their facts and are tagged by node hash; a name is dropped by its key.
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
        /// How long a query waits for its upstream lookup before it gets the stale
        /// answer or SERVFAIL (the lookup runs on and fills the cache for the retry).
        package var missTimeout: Duration? = .seconds(2)

        package init() {}
    }

    private let resolver: NodeResolver
    private let head: ChainHead
    private let settings: Settings
    private let renderer: ManagedAtomic<RendererBox>
    /// Tagged by node hash (every name of a node, and a node-id name's negative entry).
    private let cache: AnswerCache<NameKey, Bytes32, CachedNode>
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
        self.cache = AnswerCache(limits: settings.limits, cost: { $0.cost })
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
        guard let key = NameKey(wire: qname), let answer = freshAnswer(key, type: type, now: now()) else {
            return .miss
        }
        metrics.hits.increment()
        return .hit(answer)
    }

    package func resolve(name: Name, type: RRType) async -> DynamicAnswer {
        let render = renderer.load(ordering: .acquiring).renderer
        guard let nodeName = NodeName(dnsName: name) else {
            metrics.invalidNames.increment()
            return render.engine.dynamicNameError()
        }
        // The canonical key: for a node name, the same one the query's bytes give.
        let key = NameKey(nodeName)
        let owner = name.lowercased
        // Filled while this query waited.
        if let answer = freshAnswer(key, type: type, now: now()) { return answer }
        let started = generation.load(ordering: .acquiring)
        do {
            let outcome = try await lookupFacts(nodeName, key: key)
            let answer = render.answer(outcome, name: owner, type: type, ttl: settings.positiveTTL)
            // An invalidation while we looked up may have made the outcome outdated:
            // answer this query with it, but do not keep it.
            if generation.load(ordering: .acquiring) == started {
                let at = now()
                keep(answer, for: type, key: key, renderedFrom: outcome, expires: at &+ ttlNanoseconds(outcome), now: at)
            }
            return answer
        } catch {
            return staleOrFailure(key: key, owner: owner, type: type, error: error, render: render)
        }
    }

    // MARK: NodeLookupService (the JSON gateway)

    package func lookupNode(_ text: String) async throws(NodeLookupError) -> NodeInfo {
        let nodeName = try NodeName(userText: text)
        let key = NameKey(nodeName)
        let outcome: NodeLookupOutcome
        var ttl = settings.positiveTTL
        do {
            outcome = try await lookupFacts(nodeName, key: key)
        } catch {
            guard case .stale(let stale) = cache.lookup(key, now: now()) else {
                throw .unavailable("\(error)")
            }
            metrics.staleServed.increment()
            outcome = stale.outcome
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
        metrics.invalidations.increment(by: cache.removeAll(tagged: nodeHash))
    }

    /// Drops every answer for a name, negative ones included (NodeRegistered).
    package func invalidate(name: NodeName) {
        generation.wrappingIncrement(ordering: .acquiringAndReleasing)
        if cache.remove(NameKey(name)) { metrics.invalidations.increment() }
    }

    /// Drops everything (a reorg: the orphaned blocks' effects are not tracked per name).
    package func invalidateAll() {
        generation.wrappingIncrement(ordering: .acquiringAndReleasing)
        cache.removeAll()
    }

    /// Names cached (each with its facts and the answers rendered so far).
    package var cachedNameCount: Int { cache.count }

    // MARK: Internals

    /// The answer for `type` if it is cached and within its TTL (even when the facts it
    /// was rendered from are stale: an answer from stale facts has its own short TTL).
    @inline(__always)
    private func freshAnswer(_ key: NameKey, type: RRType, now: UInt64) -> DynamicAnswer? {
        switch cache.lookup(key, now: now) {
        case .fresh(let node, _), .stale(let node): node.answer(for: type, now: now)
        case .miss: nil
        }
    }

    /// Adds `answer` to the name's entry if the entry still holds the facts it was
    /// rendered from (newer facts, or none after an invalidation, win).
    private func keep(
        _ answer: DynamicAnswer, for type: RRType, key: NameKey, renderedFrom outcome: NodeLookupOutcome,
        expires: UInt64, now: UInt64
    ) {
        cache.update(key, now: now) { node in
            node.outcome == outcome ? node.adding(answer, for: type, expires: expires) : nil
        }
    }

    /// Facts for a name: the cache, or one upstream lookup shared by every waiter.
    private func lookupFacts(_ name: NodeName, key: NameKey) async throws -> NodeLookupOutcome {
        if case .fresh(let node, _) = cache.lookup(key, now: now()) { return node.outcome }
        metrics.misses.increment()
        let result = try await flight.run(name, maxWait: settings.missTimeout) { [self] in
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
                // Replaces the name's entry: answers rendered from older facts go with it.
                cache.insert(
                    key, CachedNode(outcome), ttlNanoseconds: ttlNanoseconds(outcome), tags: tags(name, outcome),
                    now: now())
            }
            return outcome
        }
        if result.started { metrics.upstreamLookups.increment() }
        return result.value
    }

    private func staleOrFailure(
        key: NameKey, owner: Name, type: RRType, error: any Error, render: NodeAnswerRenderer
    ) -> DynamicAnswer {
        let at = now()
        // RFC 8767 4: answer from stale data with a short TTL, and keep that answer for
        // the stale TTL so a dead upstream is not asked again by every query.
        if case .stale(let node) = cache.lookup(key, now: at) {
            metrics.staleServed.increment()
            let answer = render.answer(node.outcome, name: owner, type: type, ttl: settings.staleTTL)
            keep(
                answer, for: type, key: key, renderedFrom: node.outcome,
                expires: at &+ UInt64(settings.staleTTL) * 1_000_000_000, now: at)
            return answer
        }
        metrics.servfail.increment()
        switch error as? SingleFlightError {
        case .overloaded?: metrics.overloaded.increment()
        case .timedOut?: metrics.timedOut.increment()
        case nil: break
        }
        return .serverFailure
    }

    private func ttlNanoseconds(_ outcome: NodeLookupOutcome) -> UInt64 {
        switch outcome {
        case .found: UInt64(settings.positiveTTL) * 1_000_000_000
        // RFC 2308 5: negative answers live for the SOA minimum.
        case .nonexistent: UInt64(renderer.load(ordering: .relaxed).renderer.engine.negativeTTL) * 1_000_000_000
        }
    }

    private func tags(_ name: NodeName, _ outcome: NodeLookupOutcome) -> [Bytes32] {
        switch (outcome, name) {
        case (.found(let f), _): [f.nodeHash]
        // A node-id name's hash is known, so its registration drops the negative entry.
        case (.nonexistent, .nodeID(let id)): [NodeHash(nodeID: id).bytes32]
        case (.nonexistent, .alias): []
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
    let timedOut = Counter(label: "onebz_dynamic_miss_timeouts_total")
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
