import Atomics
import ChainReader
import DNSEngine
import DNSSEC
import DNSWire
import Foundation
import Logging
import Metrics
import NIOCore
import NodeRegistry
import ZoneCache

/// Answers node names from chain + registry through one cache
/// (docs/design.md#caching-and-invalidation): per name, a ``CachedNode`` holding the
/// facts (what the upstreams said, also used by the JSON gateway and for stale answers)
/// and the answers rendered from them per type, so a hit is a lookup and a patch.
/// Entries expire with their facts and are tagged by node hash; a name is dropped by
/// its key.
///
/// Miss path: one upstream lookup per name at a time (singleflight), bounded in number;
/// upstream failure serves the stale answer (RFC 8767) or SERVFAIL, never NXDOMAIN.
package final class DynamicNodeSource: DynamicAnswerSource, NodeLookupService {
    package struct Settings: Sendable {
        package var positiveTTL: UInt32 = 300
        /// How long a nonexistent name is cached: the zone's negative TTL (RFC 2308 5,
        /// `QueryEngine.negativeTTL`). The engine renders the negative answer itself,
        /// with the SOA it serves at that moment.
        package var negativeTTL: UInt32 = 300
        package var staleTTL: UInt32 = 30
        package var limits = AnswerCacheLimits(
            maxEntries: 1_000_000, maxBytes: 512 << 20, maxStaleNanoseconds: 86_400 * 1_000_000_000)
        package var maxInFlight = 1024
        /// How long a query waits for its upstream lookup before it gets the stale
        /// answer or SERVFAIL (the lookup runs on and fills the cache for the retry).
        package var missTimeout: Duration? = .seconds(2)
        /// DNSSEC: the zone's current signer (nil: answers are not signed). Asked on
        /// every render, so a key change applies to the next answer rendered.
        package var signer: (@Sendable () -> ZoneSigner?)? = nil
        /// Unix time for signature inception and expiry (injected for tests).
        package var wallClock: @Sendable () -> UInt32 = { UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince1970)) }

        package init() {}
    }

    let resolver: NodeResolver
    private let head: ChainHead
    private let settings: Settings
    /// Tagged by node hash (every name of a node, and a node-id name's negative entry),
    /// by its first 64 bits (``tag(_:)``): a tag held inline, no array per entry.
    private let cache: AnswerCache<NameKey, UInt64, CachedNode>
    private let flight: SingleFlight<NodeName, Fetched>
    /// Bumped by every invalidation: a lookup that started before one does not cache
    /// its (possibly outdated) result.
    private let generation = ManagedAtomic<UInt64>(0)
    private let now: @Sendable () -> UInt64
    private let logger: Logger
    private let metrics = DynamicMetrics()
    /// The complete set of registered names (materialised zone): a name not in it is
    /// NXDOMAIN without an upstream call. Nil: every miss asks the upstreams.
    private let absence: MaterializedZone?

    package init(
        resolver: NodeResolver, head: ChainHead, settings: Settings, logger: Logger = Logger(label: "onebz.dynamic"),
        absence: MaterializedZone? = nil,
        now: @escaping @Sendable () -> UInt64 = { NIODeadline.now().uptimeNanoseconds }
    ) {
        self.absence = absence
        self.resolver = resolver
        self.head = head
        self.settings = settings
        self.cache = AnswerCache(limits: settings.limits, cost: { $0.cost })
        self.flight = SingleFlight(maxInFlight: settings.maxInFlight)
        self.now = now
        self.logger = logger
    }

    // MARK: DynamicAnswerSource

    /// The hot path: the key is built inline from the query bytes, nothing allocated.
    package func cachedAnswer(wire qname: UnsafeRawBufferPointer, type: RRType) -> DynamicAnswer? {
        // `_443._tcp.shashi.1bz`: the entry of `shashi.1bz`, its answer for the subname.
        guard let (subname, offset) = NodeSubname.split(qname) else { return .nameError }
        let nodeName = UnsafeRawBufferPointer(rebasing: qname[offset...])
        guard let key = NameKey(wire: nodeName) else { return nil }
        let at = now()
        let answer: DynamicAnswer?
        switch cache.lookup(key, now: at) {
        case .fresh(let node, let remaining):
            answer = node.answer(for: type, at: subname, now: at)
            // Rendered from the zone, without this type yet: the zone renders it too.
            if answer == nil, node.outcome == nil,
                let rendered = unsignedZoneAnswer(
                    qname: qname, nodeName: nodeName, subname: subname, key: key, type: type, entryRemaining: remaining)
            {
                return rendered
            }
        case .stale(let node):
            answer = node.answer(for: type, at: subname, now: at)
        case .miss:
            // Authoritative absence: not registered at the processed block.
            if let absence, absence.isAbsent(wire: nodeName) {
                metrics.absent.increment()
                return .nameError
            }
            // A zone-held name, unsigned: rendered here from the zone's records (no
            // upstream, no signature: a few microseconds), not in a task of its own.
            if let rendered = unsignedZoneAnswer(
                qname: qname, nodeName: nodeName, subname: subname, key: key, type: type, entryRemaining: nil)
            {
                return rendered
            }
            answer = nil
        }
        if answer != nil { metrics.hits.increment() }
        return answer
    }

    /// The miss path: one cache lookup, and at most one upstream lookup per name at a
    /// time, whose result is cached with the first asker's answer in one insert.
    package func resolve(name: Name, type: RRType) async -> DynamicAnswer {
        let split = name.wire.withUnsafeBytes { NodeSubname.split($0) }
        guard let (subname, offset) = split,
            let nodeDNSName = try? Name(wire: Array(name.wire[offset...])),
            let nodeName = NodeName(dnsName: nodeDNSName)
        else {
            metrics.invalidNames.increment()
            return .nameError
        }
        if let absence, nodeDNSName.wire.withUnsafeBytes({ absence.isAbsent(wire: $0) }) {
            metrics.absent.increment()
            return .nameError
        }
        // The canonical key: for a node name, the same one the query's bytes give.
        let key = NameKey(nodeName)
        let owner = name.lowercased
        let at = now()
        var stale: CachedNode? = nil
        // A fresh entry rendered from the zone, without this type yet: its time left.
        var zoneEntryRemaining: UInt64? = nil
        switch cache.lookup(key, now: at) {
        case .fresh(let node, let remaining):
            // Filled while this query waited, or fresh facts without this type yet.
            if let answer = node.answer(for: type, at: subname, now: at) { return answer }
            guard let outcome = node.outcome else {
                // Rendered from the zone: the zone renders this type too (below).
                zoneEntryRemaining = remaining
                break
            }
            let answer = render(outcome, name: owner, type: type, subname: subname, ttl: settings.positiveTTL)
            keep(
                answer, for: type, at: subname, key: key, renderedFrom: node.origin,
                expires: capped(at &+ remaining, at: at), now: at)
            return answer
        case .stale(let node):
            stale = node
        case .miss:
            break
        }
        if let answer = zoneAnswer(
            nodeName, key: key, name: name, type: type, subname: subname, entryRemaining: zoneEntryRemaining)
        {
            return answer
        }
        do throws(MissFailure) {
            let fetched = try await fetch(nodeName, key: key, owner: owner, type: type, subname: subname)
            if let answer = fetched.node?.answer(for: type, at: subname, now: now()) { return answer }
            // Another asker started the lookup, for another type (or an invalidation
            // kept it out of the cache): render ours and add it to the entry.
            let answer = render(fetched.outcome, name: owner, type: type, subname: subname, ttl: settings.positiveTTL)
            if let node = fetched.node {
                let at = now()
                keep(
                    answer, for: type, at: subname, key: key, renderedFrom: node.origin,
                    expires: capped(at &+ ttl(fetched.outcome), at: at), now: at)
            }
            return answer
        } catch {
            return staleOrFailure(
                stale, nodeName: nodeName, key: key, owner: owner, type: type, subname: subname, failure: error)
        }
    }

    // MARK: NodeLookupService (the JSON gateway)

    package func lookupNode(_ text: String) async throws(NodeLookupError) -> NodeInfo {
        let nodeName = try NodeName(userText: text)
        let key = NameKey(nodeName)
        let outcome: NodeLookupOutcome
        var ttl = settings.positiveTTL
        // The cached facts and whether they are fresh. An entry rendered from the zone
        // holds records, not the facts this reports: the upstreams are asked, as on a miss.
        var cached: (outcome: NodeLookupOutcome, fresh: Bool)? = nil
        switch cache.lookup(key, now: now()) {
        case .fresh(let node, _): cached = node.outcome.map { ($0, true) }
        case .stale(let node): cached = node.outcome.map { ($0, false) }
        case .miss: break
        }
        switch cached {
        case (let facts, true)?:
            outcome = facts
        case (let facts, false)?:
            do throws(MissFailure) {
                outcome = try await fetch(nodeName, key: key, owner: nil, type: .txt, subname: .node).outcome
            } catch {
                metrics.staleServed.increment()
                outcome = facts
                ttl = settings.staleTTL
            }
        case nil:
            do throws(MissFailure) {
                outcome = try await fetch(nodeName, key: key, owner: nil, type: .txt, subname: .node).outcome
            } catch {
                throw .unavailable(error.description)
            }
        }
        guard case .found(let f) = outcome else { throw .notFound }
        let metadata = f.verifiedMetadata
        return NodeInfo(
            name: nodeName.description, nodeID: f.nodeID?.hex ?? "", nodeHash: f.nodeHash.hex,
            publicKey: metadata?.publicKey.pem, ipv4: metadata?.ipv4 ?? [], ipv6: metadata?.ipv6 ?? [],
            trust: f.trust, verified: f.node.verified, wallet: f.node.wallet.hex, block: f.block,
            metadataVerified: metadata != nil, ttl: ttl)
    }

    /// The DNS name the engine classifies for what a person typed: `<64 hex>.1bz`
    /// becomes its `<base32>.id.1bz` form.
    package func dnsName(forUserText text: String) throws(NodeLookupError) -> Name {
        if case .nodeID(let id)? = try? NodeName(userText: text), let name = try? Name(id.dnsName) { return name }
        do { return try Name(text.trimmingCharacters(in: .whitespaces)) } catch {
            throw .invalidName("\"\(text)\" is not a valid DNS name")
        }
    }

    // MARK: Invalidation

    /// Drops every answer about a node (NodeVerified, StakeAdded, TrustUpdated, a
    /// registry change, and NodeRegistered: a node-id name's negative entry).
    package func invalidate(nodeHash: NodeHash) {
        generation.wrappingIncrement(ordering: .acquiringAndReleasing)
        metrics.invalidations.increment(by: cache.removeAll(tagged: Self.tag(nodeHash)))
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
    /// What the cache's byte bound counts now (`cache.max_bytes`).
    package var cachedBytes: Int { cache.bytes }

    // MARK: Internals

    /// What one upstream lookup gave its waiters: the outcome and, when it was cached,
    /// the entry (holding the answer of the asker that started it).
    private struct Fetched: Sendable {
        let outcome: NodeLookupOutcome
        let node: CachedNode?
    }

    /// Why a miss got no facts from upstream.
    private enum MissFailure: Error, CustomStringConvertible {
        case upstream(UpstreamFailure)
        /// `cache.max_in_flight` lookups are running already.
        case overloaded
        /// `cache.miss_timeout` passed before the upstreams answered.
        case timedOut

        var description: String {
            switch self {
            case .upstream(let failure): failure.description
            case .overloaded: "too many upstream lookups in flight"
            case .timedOut: "the upstream lookup timed out"
            }
        }
    }

    /// Facts for a name from one upstream lookup shared by every waiter; the starter's
    /// answer for `type` (when `owner` is given) is rendered and cached with them.
    private func fetch(
        _ name: NodeName, key: NameKey, owner: Name?, type: RRType, subname: NodeSubname
    ) async throws(MissFailure) -> Fetched {
        metrics.misses.increment()
        do {
            let result = try await flight.run(name, maxWait: settings.missTimeout) { [self] in
                try await lookUpstream(name, key: key, owner: owner, type: type, subname: subname)
            }
            return result.value
        } catch let failure as UpstreamFailure {
            throw .upstream(failure)
        } catch SingleFlightError.overloaded {
            metrics.overloaded.increment()
            throw .overloaded
        } catch SingleFlightError.timedOut {
            metrics.timedOut.increment()
            throw .timedOut
        } catch {
            throw .upstream(UpstreamFailure(.chain, "\(error)"))
        }
    }

    /// The upstream lookup itself (run once per name at a time): the chain at the
    /// follower's block and the registry; the outcome is cached unless an invalidation
    /// happened meanwhile.
    private func lookUpstream(
        _ name: NodeName, key: NameKey, owner: Name?, type: RRType, subname: NodeSubname
    ) async throws -> Fetched {
        // A lookup of this name that ended between the caller's cache miss and its
        // flight: it stored its facts before its flight ended, so they are here now
        // (without this, a burst of queries for one name could start a second lookup).
        if case .fresh(let node, _) = cache.lookup(key, now: now()), let outcome = node.outcome {
            return Fetched(outcome: outcome, node: node)
        }
        guard head.isSynced else { throw UpstreamFailure(.notSynced, "the chain follower has not caught up yet") }
        metrics.upstreamLookups.increment()
        let block = head.current
        let started = generation.load(ordering: .acquiring)
        let timer = now()
        let outcome: NodeLookupOutcome
        do {
            outcome = try await resolver.resolve(name, at: block)
        } catch {
            metrics.upstreamFailure(error.upstream)
            logger.warning(
                "upstream lookup failed",
                metadata: ["name": "\(name)", "upstream": "\(error.upstream.rawValue)", "error": "\(error.detail)"])
            throw error
        }
        let at = now()
        metrics.upstreamLatency.recordNanoseconds(Int64(clamping: at &- timer))
        if case .found(let f) = outcome, case .rejected(let why) = f.metadata {
            metrics.metadataRejected.increment()
            logger.warning("registry metadata rejected", metadata: ["name": "\(name)", "reason": "\(why)"])
        }
        guard generation.load(ordering: .acquiring) == started else { return Fetched(outcome: outcome, node: nil) }
        var node = CachedNode(outcome)
        let lifetime = ttl(outcome)
        if let owner {
            node = node.adding(
                render(outcome, name: owner, type: type, subname: subname, ttl: settings.positiveTTL), for: type,
                at: subname, expires: capped(at &+ lifetime, at: at))
        }
        // Replaces the name's entry: answers rendered from older facts go with it.
        let stored = cache.insert(key, node, ttlNanoseconds: lifetime, tags: tags(name, outcome), now: at) {
            generation.load(ordering: .acquiring) == started
        }
        return Fetched(outcome: outcome, node: stored ? node : nil)
    }

    /// Renders (and, with DNSSEC on, signs: once per cached answer) the answer.
    private func render(
        _ outcome: NodeLookupOutcome, name: Name, type: RRType, subname: NodeSubname, ttl: UInt32
    ) -> DynamicAnswer {
        let signing = settings.signer?().map {
            NodeAnswerRenderer.Signing(signer: $0, now: settings.wallClock(), negativeTTL: settings.negativeTTL)
        }
        let answer = NodeAnswerRenderer.answer(
            outcome, name: name, subname: subname, type: type, ttl: ttl, signing: signing)
        if signing != nil, case .serverFailure = answer {
            metrics.signingFailures.increment()
            logger.error("dnssec: signing a chain-backed answer failed", metadata: ["name": "\(name)", "type": "\(type)"])
        }
        return answer
    }

    /// A zone-held node's answer, without an upstream call
    /// (docs/dynamic.md#answers-from-the-zone): rendered (and signed) from the records
    /// the materialised zone holds when it holds the node clean, and cached as answers
    /// only (the entry names the zone's payload by its fingerprint, it does not copy the
    /// records). Before the follower's first sync (a restored snapshot) it is not
    /// cached: invalidations reach the cache only from then on. Nil: the zone cannot
    /// answer (not live, or the node marked for resolving again): ask the upstreams.
    private func zoneAnswer(
        _ nodeName: NodeName, key: NameKey, name: Name, type: RRType, subname: NodeSubname, entryRemaining: UInt64?,
        waiting: Bool = true
    ) -> DynamicAnswer? {
        guard let zone = absence else { return nil }
        // Before the zone is read: an invalidation after this keeps the answer out of the cache.
        let started = generation.load(ordering: .acquiring)
        guard let held = zone.heldPayload(for: nodeName, waiting: waiting) else { return nil }
        let answer = renderFromZone(held.payload, name: name, subname: subname, type: type, ttl: settings.positiveTTL)
        guard head.isSynced else {
            metrics.snapshotAnswers.increment()
            return answer
        }
        metrics.zoneAnswers.increment()
        let origin = CachedNode.Origin.zone(fingerprint: held.fingerprint)
        let at = now()
        let lifetime = UInt64(settings.positiveTTL) * 1_000_000_000
        // Another type of a fresh entry rendered from the same records (within its
        // lifetime); else a new entry, replacing a stale or older one.
        if let entryRemaining,
            keep(
                answer, for: type, at: subname, key: key, renderedFrom: origin,
                expires: capped(at &+ entryRemaining, at: at), now: at, waiting: waiting)
        {
            return answer
        }
        let expires = capped(at &+ lifetime, at: at)
        cache.insert(
            key, CachedNode(origin).adding(answer, for: type, at: subname, expires: expires),
            ttlNanoseconds: lifetime, tags: [Self.tag(held.nodeHash)], now: at, waiting: waiting
        ) { generation.load(ordering: .acquiring) == started }
        return answer
    }

    /// The hot path's miss for a name the zone holds, when answers are not signed:
    /// `zoneAnswer` on the query's own thread. Signed answers go to `resolve` (a task):
    /// a signature is not made on the thread that reads the sockets. Nor is a lock
    /// waited for there: the zone's busy, nil (the query takes the miss path); the
    /// cache's writer busy, the answer is not cached this time.
    private func unsignedZoneAnswer(
        qname: UnsafeRawBufferPointer, nodeName wire: UnsafeRawBufferPointer, subname: NodeSubname, key: NameKey,
        type: RRType, entryRemaining: UInt64?
    ) -> DynamicAnswer? {
        guard absence != nil, settings.signer?() == nil,
            let name = try? Name(wire: Array(qname)), let nodeDNSName = try? Name(wire: Array(wire)),
            let nodeName = NodeName(dnsName: nodeDNSName)
        else { return nil }
        return zoneAnswer(
            nodeName, key: key, name: name, type: type, subname: subname, entryRemaining: entryRemaining, waiting: false)
    }

    /// Renders (and signs) an answer from a node's records as the zone holds them.
    private func renderFromZone(_ payload: NodePayload, name: Name, subname: NodeSubname, type: RRType, ttl: UInt32)
        -> DynamicAnswer
    {
        let signing = settings.signer?().map {
            NodeAnswerRenderer.Signing(signer: $0, now: settings.wallClock(), negativeTTL: settings.negativeTTL)
        }
        return NodeAnswerRenderer.answer(
            zoneRecords: payload.records ?? [], name: name, subname: subname, type: type, ttl: ttl, signing: signing)
    }

    /// A cached answer's expiry, no later than its signatures' refresh time: a
    /// signature near its end is never served from the cache (the answer is
    /// re-rendered and re-signed instead).
    private func capped(_ expires: UInt64, at: UInt64) -> UInt64 {
        guard let signer = settings.signer?() else { return expires }
        let timing = signer.dynamicTiming
        let window = UInt64(timing.validity &- timing.refresh) * 1_000_000_000
        return min(expires, at &+ window)
    }

    /// Adds `answer` to the name's entry if the entry still holds what it was rendered
    /// from (newer facts, or none after an invalidation, win); returns whether it did.
    @discardableResult
    private func keep(
        _ answer: DynamicAnswer, for type: RRType, at subname: NodeSubname, key: NameKey,
        renderedFrom origin: CachedNode.Origin, expires: UInt64, now: UInt64, waiting: Bool = true
    ) -> Bool {
        cache.update(key, now: now, waiting: waiting) { node in
            node.origin == origin ? node.adding(answer, for: type, at: subname, expires: expires) : nil
        }
    }

    /// RFC 8767 4: answer from stale data with a short TTL, and keep that answer for
    /// the stale TTL so a dead upstream is not asked again by every query; without
    /// stale data, SERVFAIL.
    private func staleOrFailure(
        _ stale: CachedNode?, nodeName: NodeName, key: NameKey, owner: Name, type: RRType, subname: NodeSubname,
        failure: MissFailure
    ) -> DynamicAnswer {
        // Stale data: the facts, or for an entry rendered from the zone the records the
        // zone still holds for the node (marked for resolving again, not yet resolved).
        let rendered: DynamicAnswer?
        if let outcome = stale?.outcome {
            rendered = render(outcome, name: owner, type: type, subname: subname, ttl: settings.staleTTL)
        } else if stale != nil, let held = absence?.heldPayload(for: nodeName, includingStale: true) {
            rendered = renderFromZone(held.payload, name: owner, subname: subname, type: type, ttl: settings.staleTTL)
        } else {
            rendered = nil
        }
        guard let stale, let rendered else {
            metrics.servfail.increment()
            return .serverFailure
        }
        metrics.staleServed.increment()
        let at = now()
        // RFC 8914 4.4: EDE 3, stale answer.
        let answer = rendered.with(extendedError: ExtendedDNSError.staleAnswer)
        keep(
            answer, for: type, at: subname, key: key, renderedFrom: stale.origin,
            expires: capped(at &+ UInt64(settings.staleTTL) * 1_000_000_000, at: at), now: at)
        return answer
    }

    private func ttl(_ outcome: NodeLookupOutcome) -> UInt64 {
        switch outcome {
        case .found: UInt64(settings.positiveTTL) * 1_000_000_000
        // RFC 2308 5: negative answers live for the SOA minimum.
        case .nonexistent: UInt64(settings.negativeTTL) * 1_000_000_000
        }
    }

    private func tags(_ name: NodeName, _ outcome: NodeLookupOutcome) -> [UInt64] {
        switch (outcome, name) {
        case (.found(let f), _): [Self.tag(f.nodeHash)]
        // A node-id name's hash is known, so its registration drops the negative entry.
        case (.nonexistent, .nodeID(let id)): [Self.tag(NodeHash(nodeID: id))]
        case (.nonexistent, .alias): []
        }
    }

    /// A node's cache tag: the first 64 bits of its hash, inline in the entry and the
    /// tag index (the hash itself is an array, 80 heap bytes per cached name). Two
    /// nodes sharing them (odds 2^-64 per pair) only drop each other's answers on an
    /// invalidation, which is always safe.
    static func tag(_ nodeHash: NodeHash) -> UInt64 { MaterializedNames.HashKey(nodeHash).w0 }
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
    /// Unregistered names answered NXDOMAIN from the materialised name set.
    let absent = Counter(label: "onebz_dynamic_absent_total")
    /// Answered from a restored zone snapshot before the follower's first sync.
    let snapshotAnswers = Counter(label: "onebz_dynamic_snapshot_answers_total")
    /// Misses answered from the materialised zone's records (no upstream lookup).
    let zoneAnswers = Counter(label: "onebz_dynamic_zone_answers_total")
    let invalidations = Counter(label: "onebz_cache_invalidated_entries_total")
    let upstreamLookups = Counter(label: "onebz_upstream_lookups_total")
    let upstreamLatency = Metrics.Timer(label: "onebz_upstream_lookup_duration_seconds")
    let metadataRejected = Counter(label: "onebz_metadata_rejected_total")
    let signingFailures = Counter(label: "onebz_dnssec_signing_failures_total")
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
