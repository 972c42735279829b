import ChainReader
import DNSEngine
import DNSSEC
import DNSWire
import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import NodeRegistry
import OneBZResolver
import ServiceLifecycle
import ZoneCache
import ZoneTransfer

/// What onebzd runs, built from its configuration: the query engine (shared by every
/// transport) and, with a chain configured, the dynamic source, the event follower
/// and the registry change follower.
struct Runtime {
    let engine: QueryEngine
    let services: [any Service]
    /// Nil without a chain (static zone only).
    let dynamic: DynamicNodeSource?
    let head: ChainHead?
    /// What zone transfers serve: the static zone without a chain; with a chain the
    /// materialised zone (nil with `materialize = false`: transfers are then REFUSED).
    let transferSource: (any ZoneTransferSource)?
    /// The SOA serial's one owner: the engine follows it, NOTIFY subscribes to it.
    let serial: ZoneSerial
    /// The materialised zone (`[chain] materialize`, on by default): what zone
    /// transfers serve (`any ZoneTransferSource`) and what `zone dump` writes; its
    /// `onNewSerial` observers hear every new serial (NOTIFY). Nil without a chain or
    /// with `materialize = false`.
    let zone: MaterializedZone?
    /// The registry client, for `shutdown()` (a client of its own with `registryTLS`).
    let registryClient: RegistryClient?

    init(
        settings: ServerConfiguration, zone: Zone, signing: ZoneSigning?, servedZones: [ServedZone] = [],
        recordSequence: RecordSequence = RecordSequence(),
        registryTLS: RegistryTLS? = nil, logger: Logger
    ) {
        var engineConfiguration = QueryEngine.Configuration(
            identity: settings.server.refuseChaos ? nil : settings.server.identity,
            version: settings.server.refuseChaos ? nil : settings.server.version)
        engineConfiguration.cookies = settings.server.cookies
        engineConfiguration.servedZones = servedZones
        let denialChain = Self.denialChain(settings, signing: signing, logger: logger)
        engineConfiguration.nsec3Denial = denialChain
        let now = ZoneSigning.now()
        guard let chainSettings = settings.chain else {
            let staticEngine = QueryEngine(
                zone: zone, configuration: engineConfiguration, signer: signing?.signer, unixTime: now)
            let serial = ZoneSerial(initial: zone.serial)
            serial.subscribe { staticEngine.replaceZone(zone.withSerial($0), unixTime: ZoneSigning.now()) }
            self.serial = serial
            var staticServices: [any Service] = []
            engine = staticEngine
            dynamic = nil
            head = nil
            if let signing {
                // Transfers serve the static zone signed with an NSEC3 chain; renewing its
                // signatures makes a new serial, which the engine's SOA follows.
                var zoneSettings = MaterializedZone.Settings()
                zoneSettings.transform = NSEC3ZoneTransform(
                    signer: { signing.signer }, clock: { ZoneSigning.now() }, logger: logger, denialChain: denialChain)
                let signed = MaterializedZone.staticOnly(zone, settings: zoneSettings)
                signed.onNewSerial { serial.raise(to: $0) }
                staticServices.append(
                    SigningService(signing: signing, engine: staticEngine, transfers: signed, logger: logger))
                transferSource = signed
            } else {
                transferSource = StaticZoneTransferSource(zone: zone)
            }
            services = staticServices
            self.zone = nil
            registryClient = nil
            logger.info("no chain configured: serving the static zone only")
            return
        }

        let clients = ChainClients(chainSettings, logger: logger)
        let contract = clients.contract
        let registryClient = settings.registry.map { RegistryClient(baseURL: $0.url, timeout: $0.timeout, tls: registryTLS) }
        if let warning = settings.registry?.transportWarning { logger.warning("\(warning)") }

        var sourceSettings = DynamicNodeSource.Settings()
        sourceSettings.positiveTTL = settings.ttl.positive
        sourceSettings.staleTTL = settings.ttl.stale
        sourceSettings.limits = AnswerCacheLimits(
            maxEntries: settings.cache.maxEntries, maxBytes: settings.cache.maxBytes,
            maxStaleNanoseconds: UInt64(settings.cache.maxStale.components.seconds) * 1_000_000_000)
        sourceSettings.maxInFlight = settings.cache.maxInFlight
        sourceSettings.missTimeout = settings.cache.missTimeout
        sourceSettings.negativeTTL = QueryEngine(zone: zone).negativeTTL
        // The source signs with the signer the zone serves now.
        sourceSettings.signer = Self.signerClosure(signing)

        // The SOA serial is the block of the content the answers reflect: the deploy
        // block until the follower's first sync, then the block of the last change
        // (never going back).
        let initialZone = zone.withSerial(UInt32(truncatingIfNeeded: chainSettings.deployBlock))
        let head = ChainHead()
        let chainReader = clients.reader
        let resolver = NodeResolver(chain: chainReader, registry: registryClient, sequence: recordSequence)
        let serial = ZoneSerial(initial: initialZone.serial)
        let materialized = chainSettings.materialize ? Self.materializedZone(
            zone, settings: settings, signing: signing, floor: { serial.current }, denialChain: denialChain,
            logger: logger) : nil
        let source = DynamicNodeSource(
            resolver: resolver, head: head, settings: sourceSettings, logger: logger, absence: materialized)
        let engine = QueryEngine(
            zone: initialZone, configuration: engineConfiguration, dynamicSource: source, signer: signing?.signer,
            unixTime: now)
        // The engine serves each new serial (negative answers carry it from the next query on).
        serial.subscribe { engine.replaceZone(zone.withSerial($0), unixTime: ZoneSigning.now()) }
        // Until the materialised zone is live (and always with `materialize = false`)
        // the SOA serial moves to the processed block only when its batch carried events
        // (the first sync's history included): a block without events changes no name,
        // so it costs no new serial, SOA signature or NOTIFY. Once live, the zone's
        // versions set it (one serial for DNS and transfers: docs/design.md#serials).
        materialized?.onNewSerial { serial.raise(to: $0) }
        let applier = ChainEventApplier(source: source, head: head, zone: materialized) { _, changed in
            if changed, materialized?.isLive != true { serial.raise(toBlock: head.highestBlock) }
        }

        // A persisted snapshot answers at once; the follower resumes after its block.
        var followerConfiguration = clients.follower
        let snapshotIdentity = ZoneSnapshot.Identity(
            chainID: chainSettings.expectedChainID ?? 0, contract: chainSettings.contract)
        if let materialized, let path = settings.zone.snapshotFile {
            followerConfiguration.resume = Self.restore(materialized, from: path, identity: snapshotIdentity, logger: logger)
        }
        // Proof mode remembers agreed blocks by number: a reorg makes them wrong from there on.
        let agreedBlocks = clients.agreedBlocks
        let follower = EventFollower(
            registry: contract, configuration: followerConfiguration, blocks: agreedBlocks, logger: logger
        ) { event in
            if case .reorg(let fromBlock) = event {
                agreedBlocks?.forget(from: fromBlock)
                materialized?.chainReorganised(from: fromBlock)
            }
            if case .registered(let hash, let name, _, _) = event { (chainReader as? ProvenRegistry)?.hint(name: name, nodeHash: hash) }
            await applier.handle(event)
        }

        var services: [any Service] = [follower]
        if let materialized {
            services.append(
                ZoneMaterializer(
                    zone: materialized, resolver: resolver,
                    bulk: clients.bulkMaterializer(resolver: resolver, registry: registryClient, logger: logger),
                    settings: clients.materializer, logger: logger))
        }
        if let signing {
            services.append(SigningService(signing: signing, engine: engine, transfers: materialized, logger: logger))
        }
        if let materialized, let path = settings.zone.snapshotFile {
            services.append(
                ZoneSnapshotWriter(
                    zone: materialized, path: path, interval: settings.zone.snapshotInterval, identity: snapshotIdentity,
                    checkpoints: follower.checkpoints, logger: logger))
        }
        if let registryClient, let registrySettings = settings.registry {
            services.append(
                RegistryChangeFollower(
                    client: registryClient, interval: registrySettings.pollInterval, source: source,
                    zone: materialized, logger: logger))
        }
        logger.info(
            "serving chain names",
            metadata: [
                "contract": "\(chainSettings.contract)", "rpc": "\(chainSettings.rpcURLs.map(JSONRPCClient.redacted))",
                "verify": "\(chainSettings.verify.rawValue)",
                "registry": "\(settings.registry?.url ?? "none")",
            ])
        self.engine = engine
        self.serial = serial
        self.services = services
        self.dynamic = source
        self.head = head
        self.transferSource = materialized
        self.zone = materialized
        self.registryClient = registryClient
    }

    /// Restores `zone` from the snapshot at `path` when it is whole and of this chain,
    /// contract and format; returns the block the follower resumes after. Anything else
    /// is a cold start, logged with the reason (a refused snapshot is never served).
    static func restore(
        _ zone: MaterializedZone, from path: String, identity: ZoneSnapshot.Identity, logger: Logger
    ) -> ChainCheckpoint? {
        // A write interrupted by a crash leaves its temporary file: never read, removed.
        try? FileManager.default.removeItem(atPath: path + ".tmp")
        let started = ContinuousClock.now
        do throws(ZoneSnapshotRefusal) {
            guard let snapshot = try ZoneSnapshotFile.read(path, expecting: identity) else {
                logger.info("zone snapshot: none yet, cold start", metadata: ["file": "\(path)"])
                return nil
            }
            zone.restore(snapshot)
            logger.info(
                "zone snapshot loaded",
                metadata: [
                    "file": "\(path)", "block": "\(snapshot.checkpoint.number)", "nodes": "\(snapshot.names.count)",
                    "ms": "\(Int((ContinuousClock.now - started) / .milliseconds(1)))",
                ])
            // The file's bytes and the parse's temporaries are freed; before the
            // servers start, so no query waits on the trim.
            FreedHeap.returnToKernel(after: "zone snapshot load", logger: logger)
            return snapshot.checkpoint
        } catch {
            logger.warning("zone snapshot refused, cold start", metadata: ["file": "\(path)", "reason": "\(error.reason)"])
            return nil
        }
    }

    /// Releases what the services used and do not close themselves (the registry client's own pool).
    func shutdown() async {
        await registryClient?.shutdown()
    }
}

extension Runtime {
    /// The materialised zone with the server's TTLs (journal limits: defaults until
    /// `[transfer]` sets them).
    static func materializedZone(
        _ zone: Zone, settings: ServerConfiguration, signing: ZoneSigning?, floor: @escaping @Sendable () -> UInt32,
        denialChain: NSEC3DenialChain? = nil, logger: Logger
    ) -> MaterializedZone {
        var zoneSettings = MaterializedZone.Settings()
        // The signed NSEC3 zone (a second copy of every record with its signatures: ~660 B
        // a name) has two readers, secondaries and `denial = "nsec3"`; with neither it is
        // not built (docs/dnssec.md#the-signed-zone-for-transfers).
        if let signing, settings.transfer.isEnabled || denialChain != nil {
            zoneSettings.transform = NSEC3ZoneTransform(
                signer: { signing.signer }, clock: { ZoneSigning.now() }, logger: logger, denialChain: denialChain)
        } else if signing != nil {
            logger.info("dnssec: no [[transfer.allow]] and denial = compact: the signed NSEC3 zone for transfers is not built")
        }
        zoneSettings.positiveTTL = settings.ttl.positive
        zoneSettings.collectEventFacts = settings.chain.map(ChainClients.materializesInBulk) ?? false
        zoneSettings.serialFloor = floor
        zoneSettings.serialMinInterval = UInt64(settings.zone.serialMinInterval / .nanoseconds(1))
        zoneSettings.journal.maxVersions = settings.transfer.journalMaxVersions
        zoneSettings.journal.maxAgeNanoseconds = UInt64(settings.transfer.journalMaxAge.components.seconds) * 1_000_000_000
        return MaterializedZone(staticZone: zone, settings: zoneSettings, logger: logger)
    }
}

/// The chain side a configuration names, built the same way for the server and for
/// `onebzd zone dump`: the JSON-RPC client, the contract (events, call-mode reads), the
/// reader lookups use (call or proof mode), the follower's and materialiser's settings.
struct ChainClients {
    let contract: BizNodeRegistry
    let reader: any ChainNodeReader
    let follower: EventFollower.Configuration
    let materializer: ZoneMaterializer.Settings
    let materializesInBulk: Bool

    /// Call mode materialises a cold start in bulk (proof mode reads each node proven:
    /// docs/performance.md#cold-start-in-bulk).
    static func materializesInBulk(_ chain: ServerConfiguration.Chain) -> Bool {
        chain.materialize && chain.verify == .call
    }

    /// The cold start's bulk path; nil in proof mode.
    func bulkMaterializer(resolver: NodeResolver, registry: RegistryClient?, logger: Logger) -> BulkMaterializer? {
        guard materializesInBulk else { return nil }
        let contract = self.contract
        return BulkMaterializer(
            timestamps: { try await contract.timestamps(of: $0) }, registry: registry, resolver: resolver,
            chunk: materializer.chunk, retryInterval: materializer.retryInterval, logger: logger)
    }

    init(_ chain: ServerConfiguration.Chain, logger: Logger) {
        var rpcConfiguration = JSONRPCClient.Configuration(endpoints: chain.rpcURLs)
        rpcConfiguration.timeout = chain.timeout
        rpcConfiguration.requestsPerSecond = chain.requestsPerSecond
        rpcConfiguration.endpointRequestsPerSecond = chain.endpointRequestsPerSecond
        rpcConfiguration.expectedChainID = chain.expectedChainID
        rpcConfiguration.hedgeAfter = chain.hedgeAfter
        let rpc = JSONRPCClient(configuration: rpcConfiguration, logger: logger)
        contract = BizNodeRegistry(client: rpc, address: chain.contract, lookupAddress: chain.lookupContract)
        reader = Runtime.chainReader(chain, rpc: rpc, template: rpcConfiguration, call: contract, logger: logger)
        var follower = EventFollower.Configuration(startBlock: chain.deployBlock)
        follower.confirmations = chain.confirmations
        follower.useFinalizedTag = chain.useFinalizedTag
        follower.pollInterval = chain.pollInterval
        follower.maxRange = chain.maxLogRange
        self.follower = follower
        var materializer = ZoneMaterializer.Settings()
        materializer.concurrency = chain.materializeConcurrency
        materializer.retryInterval = chain.pollInterval
        materializer.bulkThreshold = chain.materializeBulkThreshold
        self.materializer = materializer
        materializesInBulk = Self.materializesInBulk(chain)
    }

    /// Proof mode's agreed blocks (the follower checks its ranges against them).
    var agreedBlocks: BlockAgreement? { (reader as? ProvenRegistry)?.blocks }
}

extension Runtime {
    /// `[dnssec] denial = "nsec3"` with signing on: the chain the NSEC3 transform
    /// publishes and the engine's negatives read. Until it is built (cold start,
    /// restore, no active key) negatives fall back to compact denial, counted in
    /// `onebz_dnssec_nsec3_fallback_total` (docs/dnssec.md#two-kinds-of-denial-and-why).
    static func denialChain(_ settings: ServerConfiguration, signing: ZoneSigning?, logger: Logger) -> NSEC3DenialChain? {
        guard signing != nil, settings.dnssec.denial == .nsec3 else { return nil }
        logger.info("dnssec: denial = nsec3; compact denial until the signed NSEC3 chain is built")
        let fallbacks = Counter(label: "onebz_dnssec_nsec3_fallback_total")
        return NSEC3DenialChain(onFallback: { fallbacks.increment() })
    }

    static func signerClosure(_ signing: ZoneSigning?) -> (@Sendable () -> ZoneSigner?)? {
        guard let signing else { return nil }
        return { signing.signer }
    }

    /// Call mode: eth_call through the failover client. Proof mode: storage proofs
    /// checked against a block `quorum` of the endpoints agree on.
    static func chainReader(
        _ chain: ServerConfiguration.Chain, rpc: JSONRPCClient, template: JSONRPCClient.Configuration,
        call contract: BizNodeRegistry, logger: Logger
    ) -> any ChainNodeReader {
        guard chain.verify == .proof else { return contract }
        let blocks = BlockAgreement(
            endpoints: BlockAgreement.clients(for: template.endpoints, template: template), quorum: chain.quorum,
            logger: logger)
        let layout: RegistryStorageLayout = chain.storageLayout == .solidity ? .solidity : .vyper
        logger.info(
            "proof mode: chain facts are checked against agreed state roots",
            metadata: ["quorum": "\(blocks.quorum) of \(template.endpoints.count)", "layout": "\(layout.language)"])
        return ProvenRegistry(client: rpc, address: contract.address, layout: layout, blocks: blocks, logger: logger)
    }
}
