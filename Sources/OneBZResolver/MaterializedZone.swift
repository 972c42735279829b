import Atomics
import ChainReader
import DNSEngine
import DNSWire
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NodeRegistry
import Synchronization
import ZoneCache
import ZoneTransfer

/// The zone as a secondary receives it (docs/design.md#the-materialised-zone): the
/// static zone plus every name registered on chain with the records DNS answers for it,
/// versioned by SOA serial with a journal of differences (`ZoneTransferSource`); and
/// the complete set of registered names, which lets DNS answer an unregistered name
/// NXDOMAIN from memory (`isAbsent(wire:)`).
///
/// Fed by the event follower (`note(_:)`, `synced(block:)`) and the registry change
/// feed (`registryChanged(_:)`); `ZoneMaterializer` resolves the nodes they mark and
/// commits the results here, one serial per commit.
///
/// Serial rule: each commit's serial is `Serial.next(after:block:changed:)`: the
/// processed block when it is ahead of the current serial, else current + 1 when the
/// content changed (a registry change within a block), else unchanged. Never backwards
/// (RFC 1982); a reorg is a later block, so a higher serial.
package final class MaterializedZone: ZoneTransferSource, Sendable {
    package struct Settings: Sendable {
        /// The TTL of node records (`[ttl] positive`): the same as DNS answers carry.
        package var positiveTTL: UInt32 = 300
        package var journal = ZoneJournal.Limits()
        /// Applied to every version and difference transferred (DNSSEC: the NSEC3
        /// signer adds DNSKEY, RRSIGs and the NSEC3 chain). Nil: unsigned.
        package var transform: (any ZoneTransferTransform)? = nil
        /// The lowest serial the first version may take (the serial the engine already
        /// serves, so the SOA never goes back when the zone goes live).
        package var serialFloor: @Sendable () -> UInt32 = { 0 }
        /// Keep the chain facts the events state until the materialiser takes them
        /// (`takeEventFacts`): a cold start in call mode materialises from them.
        package var collectEventFacts = false
        /// At most one new serial per this many nanoseconds once live (`[zone]
        /// serial_min_interval`): the materialiser waits out the rest of the interval
        /// before committing, so changes inside it share one serial. 0: off.
        package var serialMinInterval: UInt64 = 0

        package init() {}
    }

    private struct State {
        var names = MaterializedNames()
        /// The last block the follower reported synced (names complete up to it).
        var block: UInt64 = 0
        var serial: UInt32 = 0
        var live = false
        var journal: ZoneJournal
        var lastMeasured: UInt64 = 0
        /// The block of the snapshot this zone was restored from, until the follower
        /// confirmed it or a reorg before it distrusted it.
        var restoredBlock: UInt64?
        /// Every event's facts from the start block to `block` (cold start, call mode),
        /// until the materialiser takes them; collecting stops at a reorg or a restore.
        var eventFacts: EventChainFacts?
        var collectingFacts: Bool
        var pacer: SerialPacer
    }

    package let staticZone: Zone
    private let settings: Settings
    /// A `Mutex` (not NIO's lock box) for `withLockIfAvailable`: a query thread that
    /// renders a miss from the zone never waits behind a commit or a scan.
    private let state: Mutex<State>
    /// Set once the follower has synced: the name set is complete up to its block.
    private let complete = ManagedAtomic<Bool>(false)
    private let isLiveFlag = ManagedAtomic<Bool>(false)
    /// Restored from a snapshot whose block is not known to be off the chain: onebzd is
    /// ready before the follower's first sync.
    private let restoredTrusted = ManagedAtomic<Bool>(false)
    /// The registered aliases and node hashes, for `isAbsent` without the lock (a
    /// superset of the name set; written under the lock, in `apply`).
    private let aliasIndex = NameFingerprints()
    private let hashIndex = NameFingerprints()
    private let observers = NIOLockedValueBox<[@Sendable (UInt32) -> Void]>([])
    private let wake: AsyncStream<Void>.Continuation
    /// Signalled when there is work for the materialiser (one consumer).
    package let wakeups: AsyncStream<Void>
    private let logger: Logger
    private let now: @Sendable () -> UInt64
    private let metrics = ZoneMetrics()

    package init(
        staticZone: Zone, settings: Settings = Settings(), logger: Logger = Logger(label: "onebz.zone"),
        now: @escaping @Sendable () -> UInt64 = { NIODeadline.now().uptimeNanoseconds }
    ) {
        self.staticZone = staticZone
        self.settings = settings
        self.state = Mutex(
            State(
                journal: ZoneJournal(limits: settings.journal), collectingFacts: settings.collectEventFacts,
                pacer: SerialPacer(minInterval: settings.serialMinInterval)))
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wakeups = stream
        self.wake = continuation
        self.logger = logger
        self.now = now
    }

    /// The static zone alone, live at its own serial (no chain configured): what
    /// transfers serve and `zone dump` writes then.
    package static func staticOnly(_ zone: Zone, settings: Settings = Settings()) -> MaterializedZone {
        let materialized = MaterializedZone(staticZone: zone, settings: settings)
        materialized.apply(ChainBatch(), syncedTo: UInt64(zone.serial))
        materialized.commit([], at: UInt64(zone.serial))
        return materialized
    }

    // MARK: Authoritative absence (the query hot path)

    /// True when `qname` (wire, any case) is node-shaped and certainly not registered
    /// at the processed block: the name set is complete and holds no such alias or
    /// node. False when it may exist (ask the cache and the upstreams), including
    /// before the first sync. No allocation for aliases; a node-id name costs a base32
    /// decode and a Keccak (still no upstream call).
    package func isAbsent(wire qname: UnsafeRawBufferPointer) -> Bool {
        guard complete.load(ordering: .acquiring), qname.count > 1 else { return false }
        let first = Int(qname[0])
        let second = 1 + first
        guard second < qname.count else { return false }
        let label = UnsafeRawBufferPointer(rebasing: qname[1..<second])
        if Self.isLabel(qname, at: second, "1bz"), second + 4 < qname.count, qname[second + 4] == 0 {
            guard NodeName.isAliasLabel(label) else { return true }
            return !aliasIndex.contains(Self.aliasKey(label))
        }
        if Self.isLabel(qname, at: second, "id"), Self.isLabel(qname, at: second + 3, "1bz"),
            second + 7 < qname.count, qname[second + 7] == 0
        {
            guard let id = NodeID(dnsName: String(decoding: label, as: UTF8.self)) else { return true }
            return !hashIndex.contains(Self.hashKey(NodeHash(nodeID: id)))
        }
        return false
    }

    /// Drops from the lock-free index what no node holds any more (a reorg removed it,
    /// an alias moved). Under the state lock: writers of the index are serialised.
    private func releaseIndexKeys(_ state: inout State) {
        let released = state.names.takeReleasedKeys()
        aliasIndex.remove(released.aliases)
        hashIndex.remove(released.hashes)
    }

    /// The index keys: an alias label's case-folded fingerprint, a node hash's first word.
    private static func aliasKey(_ label: UnsafeRawBufferPointer) -> UInt64 {
        UInt64(bitPattern: Int64(MaterializedNames.fingerprint(label)))
    }

    private static func hashKey(_ hash: NodeHash) -> UInt64 { MaterializedNames.HashKey(hash).w0 }

    private static func isLabel(_ wire: UnsafeRawBufferPointer, at index: Int, _ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count < wire.count, Int(wire[index]) == count else { return false }
        let bytes = text.utf8Start
        for offset in 0..<count where asciiLower(wire[index + 1 + offset]) != bytes[offset] { return false }
        return true
    }

    /// Whether the name set is complete (the follower synced once).
    package var isComplete: Bool { complete.load(ordering: .acquiring) }
    /// Whether every name was materialised once: versions are served.
    package var isLive: Bool { isLiveFlag.load(ordering: .acquiring) }

    // MARK: Input: the follower and the registry

    /// The follower delivered every event up to `block` (`batch`: those since the last
    /// sync, history from the deploy block included): apply them. Call before the chain
    /// head moves to `block`, so a registered name is in the set before anything is
    /// answered at that block.
    package func apply(_ batch: ChainBatch, syncedTo block: UInt64) {
        state.withLock { state in
            if let from = batch.reorgFrom { state.names.touchAll(since: from) }
            if state.collectingFacts {
                if batch.reorgFrom != nil {
                    state.collectingFacts = false
                    state.eventFacts = nil
                } else if state.eventFacts == nil {
                    state.eventFacts = batch.facts
                } else {
                    state.eventFacts?.merge(batch.facts)
                }
            }
            var aliasKeys: [UInt64] = []
            var hashKeys: [UInt64] = []
            for registration in batch.registered {
                var alias: String? = nil
                if case .alias(let text)? = registration.name {
                    alias = text
                    aliasKeys.append(Array(text.utf8.dropLast(4)).withUnsafeBytes { Self.aliasKey($0) })
                }
                hashKeys.append(Self.hashKey(registration.nodeHash))
                state.names.register(hash: registration.nodeHash, alias: alias, block: block)
            }
            // Before the head moves to the block (nothing is answered at it yet).
            releaseIndexKeys(&state)
            aliasIndex.insert(aliasKeys)
            hashIndex.insert(hashKeys)
            for hash in batch.touched { state.names.touch(hash: hash, block: block) }
            state.block = block
            // Synced after the snapshot's block was checked: a later reorg is an ordinary one.
            state.restoredBlock = nil
        }
        if !complete.exchange(true, ordering: .acquiringAndReleasing) {
            logger.info("registered name set complete", metadata: ["block": "\(block)", "nodes": "\(nodeCount)"])
        }
        wake.yield()
    }

    /// The registry changed a node's record or trust: resolve it again.
    package func registryChanged(_ hash: NodeHash) {
        state.withLock { $0.names.touch(hash: hash, block: $0.block) }
        wake.yield()
    }

    /// The registry's change feed lost our place (RegistryChangeFollower, 410 resync):
    /// resolve every node again.
    package func registryChangedAll() {
        state.withLock { $0.names.touchAll(since: 0) }
        wake.yield()
    }

    // MARK: The materialiser's side

    /// The chain facts of every event from the start block to the processed block, once
    /// the name set is complete, once (collecting stops): nil after a restore or a reorg,
    /// when not collected, or taken.
    package func takeEventFacts() -> (block: UInt64, facts: EventChainFacts)? {
        // Before the first sync there is nothing to take yet (and collecting goes on).
        guard isComplete else { return nil }
        return state.withLock { state in
            defer {
                state.collectingFacts = false
                state.eventFacts = nil
            }
            guard let facts = state.eventFacts, !state.live else { return nil }
            return (state.block, facts)
        }
    }

    /// The nodes of `hashes` that are to be resolved, taken as `takeWork` takes them.
    package func takeWork(hashes: [NodeHash]) -> (block: UInt64, work: [MaterializedNames.Work]) {
        state.withLock { ($0.block, $0.names.takeDirty(hashes: hashes)) }
    }

    /// Work taken and not resolved: marked to be resolved again (not a failure).
    package func giveBack(_ work: [MaterializedNames.Work]) {
        state.withLock { state in for item in work { state.names.retry(item) } }
        wake.yield()
    }

    /// Up to `limit` nodes to resolve, and the block to resolve them at.
    package func takeWork(limit: Int) -> (block: UInt64, work: [MaterializedNames.Work]) {
        state.withLock { ($0.block, $0.names.takeDirty(limit: limit)) }
    }

    /// Stores resolved nodes (failures are retried later) and moves the serial.
    /// Returns how many lookups failed.
    @discardableResult
    package func commit(
        _ results: [(MaterializedNames.Work, Result<NodeLookupOutcome, UpstreamFailure>?)], at block: UInt64
    ) -> Int {
        let time = now()
        let (failures, newSerial, wentLive) = state.withLock { state -> (Int, UInt32?, Bool) in
            var failures = 0
            var removed: [ResourceRecord] = []
            var added: [ResourceRecord] = []
            for (work, result) in results {
                switch result {
                case .success(let outcome)?:
                    let change = state.names.apply(outcome, for: work, at: block, ttl: settings.positiveTTL)
                    if state.live {
                        removed += change.removed
                        added += change.added
                    }
                case .failure?:
                    failures += 1
                    state.names.retry(work)
                case nil:
                    state.names.markEmpty(work)
                }
            }
            releaseIndexKeys(&state)
            if !state.live {
                guard complete.load(ordering: .acquiring), state.names.unmaterialised == 0 else { return (failures, nil, false) }
                let floor = settings.serialFloor()
                var serial = UInt32(truncatingIfNeeded: block)
                if SerialNumber.isLess(serial, floor) { serial = floor }
                state.serial = serial
                state.journal.start(at: serial)
                state.live = true
                return (failures, serial, true)
            }
            // DNSSEC: signatures due for renewal (or new keys) make a version of their own.
            let changed = !removed.isEmpty || !added.isEmpty || settings.transform?.isDue() == true
            let serial = Serial.next(after: state.serial, block: block, changed: changed)
            guard serial != state.serial else { return (failures, nil, false) }
            var difference = ZoneDifference(
                oldSOA: soa(state.serial), newSOA: soa(serial), removed: removed, added: added)
            if let transform = settings.transform {
                if let transformed = transform.difference(difference) {
                    difference = transformed
                } else {
                    // Not signed: secondaries must not get it by IXFR; they fall back to AXFR.
                    state.journal.start(at: serial)
                    state.serial = serial
                    state.pacer.issued(at: time)
                    return (failures, serial, false)
                }
            }
            state.journal.advance(to: serial, removed: difference.removed, added: difference.added, now: time)
            state.serial = serial
            state.pacer.issued(at: time)
            return (failures, serial, false)
        }
        if wentLive {
            // Signing the first version can take a while: outside the lock (the
            // follower's batches and registry changes take it). Commits come one at a
            // time (the materialiser), so no difference can reach the transform before it.
            if let transform = settings.transform, let version = unsignedVersion() { transform.start(version) }
            isLiveFlag.store(true, ordering: .releasing)
            let (nodes, bytes) = measure(force: true)
            logger.info(
                "materialised zone live",
                metadata: [
                    "serial": "\(newSerial ?? 0)", "nodes": "\(nodes)", "bytes": "\(bytes)",
                    "bytesPerNode": "\(nodes == 0 ? 0 : bytes / nodes)",
                ])
        } else if newSerial != nil {
            _ = measure(force: false)
        }
        if let newSerial {
            metrics.serial.record(Int64(newSerial))
            for observer in observers.withLockedValue({ $0 }) { observer(newSerial) }
        }
        if failures > 0 { metrics.lookupFailures.increment(by: failures) }
        return failures
    }

    /// Names and bytes held, exported as metrics (the byte count walks every entry,
    /// so it is refreshed at most every 10 s unless forced).
    @discardableResult
    package func measure(force: Bool) -> (nodes: Int, bytes: Int) {
        let time = now()
        guard
            let result = state.withLock({ state -> (Int, Int)? in
                guard force || time &- state.lastMeasured > 10_000_000_000 else { return nil }
                state.lastMeasured = time
                return (state.names.count, state.names.approximateBytes + aliasIndex.approximateBytes + hashIndex.approximateBytes)
            })
        else { return (nodeCount, 0) }
        metrics.nodes.record(Int64(result.0))
        metrics.bytes.record(Int64(result.1))
        return result
    }

    /// Calls `observer` with every new serial (NOTIFY, the engine's SOA), after the
    /// version is in place. Called outside the zone's lock, in serial order.
    package func onNewSerial(_ observer: @escaping @Sendable (UInt32) -> Void) {
        observers.withLockedValue { $0.append(observer) }
    }

    /// How long the materialiser waits before its next commit (nanoseconds, 0: none):
    /// the rest of `serialMinInterval` since the last new serial, so that changes
    /// arriving inside it go out in one serial (never later than the interval's end).
    package var serialWait: UInt64 {
        let time = now()
        return state.withLock { $0.live ? $0.pacer.wait(now: time) : 0 }
    }

    package var nodeCount: Int { state.withLock { $0.names.count } }
    package var serial: UInt32? { state.withLock { $0.live ? $0.serial : nil } }
    package var pendingWork: Int { state.withLock { $0.names.dirtyCount + $0.names.unmaterialised } }

    // MARK: Snapshots (docs/operator.md#the-zone-snapshot)

    /// What a snapshot is written from, taken under the lock without copying (the
    /// entries are copy-on-write): nil until the zone is live.
    package func snapshotView() -> (block: UInt64, serial: UInt32, entries: [MaterializedNames.Entry])? {
        state.withLock { state in
            guard state.live else { return nil }
            return (state.block, state.serial, state.names.entries)
        }
    }

    /// Serves `snapshot` at once, before the follower read anything: the name set is
    /// complete up to its block (absence is authoritative), the zone is live at its
    /// serial (transfers; the journal starts there), and its clean nodes answer at once
    /// (`heldPayload`; not cached until the follower's first sync). Stale nodes are resolved again. Call
    /// once, on a new zone, after the serial observers are in place.
    package func restore(_ snapshot: ZoneSnapshot) {
        let serial = state.withLock { state -> UInt32 in
            state.names = snapshot.names
            _ = state.names.takeReleasedKeys()
            state.block = snapshot.checkpoint.number
            var serial = snapshot.serial
            let floor = settings.serialFloor()
            if SerialNumber.isLess(serial, floor) { serial = floor }
            state.serial = serial
            state.journal.start(at: serial)
            state.live = true
            state.restoredBlock = snapshot.checkpoint.number
            state.collectingFacts = false
            state.eventFacts = nil
            var aliases: [UInt64] = []
            var hashes: [UInt64] = []
            aliases.reserveCapacity(state.names.count)
            hashes.reserveCapacity(state.names.count)
            for entry in state.names.entries where entry.inUse {
                hashes.append(entry.hash.w0)
                if let label = MaterializedNames.aliasLabel(of: entry.payload) {
                    aliases.append(label.withUnsafeBytes { Self.aliasKey($0) })
                }
            }
            aliasIndex.insert(aliases)
            hashIndex.insert(hashes)
            return serial
        }
        restoredTrusted.store(true, ordering: .releasing)
        complete.store(true, ordering: .releasing)
        // Signing it for transfers takes minutes at a million names: not on the way to
        // the first answer.
        if let transform = settings.transform, let version = unsignedVersion() { transform.startInBackground(version) }
        isLiveFlag.store(true, ordering: .releasing)
        let (nodes, bytes) = measure(force: true)
        logger.info(
            "materialised zone restored from its snapshot",
            metadata: [
                "serial": "\(serial)", "block": "\(snapshot.checkpoint.number)", "nodes": "\(nodes)", "bytes": "\(bytes)",
                "stale": "\(state.withLock { $0.names.dirtyCount })",
            ])
        metrics.serial.record(Int64(serial))
        for observer in observers.withLockedValue({ $0 }) { observer(serial) }
        wake.yield()
    }

    /// The follower reported a reorg from `block`: a restored snapshot whose block is at
    /// or after it is no longer trusted (nothing of it answers, absence included, until
    /// the follower has read the chain again: a cold start's rule).
    package func chainReorganised(from block: UInt64) {
        let distrust = state.withLock { state -> Bool in
            guard let restored = state.restoredBlock, block <= restored else { return false }
            state.restoredBlock = nil
            return true
        }
        guard distrust else { return }
        restoredTrusted.store(false, ordering: .releasing)
        complete.store(false, ordering: .releasing)
        logger.warning(
            "zone snapshot: its block is no longer on the chain; not trusted, reading the chain again (cold start)",
            metadata: ["fromBlock": "\(block)"])
    }

    /// What the zone holds for a node, to answer a query from without an upstream call
    /// (docs/dynamic.md#answers-from-the-zone): nil unless the zone is live (materialised
    /// once, or restored from a snapshot not distrusted) with its name set complete, and
    /// the node is held, materialised and clean (not marked for resolving again, not
    /// being resolved). An event or registry change marks the node before the caches
    /// drop its answers, so once they are dropped this returns nil until the node's new
    /// records are committed. `fingerprint` names the payload (a cached answer rendered
    /// from it records that, not the records).
    ///
    /// `includingStale`: also a marked node's payload (RFC 8767 stale data, when the
    /// upstreams fail), whatever the zone's state.
    /// `waiting: false` (a query's own thread): nil, as for a zone that cannot answer,
    /// when the lock is held (a commit, or `takeWork`'s scan of every node: milliseconds
    /// at 1M names), so the caller takes the miss path instead of waiting.
    package func heldPayload(
        for name: NodeName, includingStale: Bool = false, waiting: Bool = true
    ) -> (payload: NodePayload, nodeHash: NodeHash, fingerprint: UInt64)? {
        guard includingStale || (isLiveFlag.load(ordering: .acquiring) && complete.load(ordering: .acquiring)) else {
            return nil
        }
        // Under the lock only the index lookup and a reference to the bytes; decoded after.
        let held =
            waiting
            ? state.withLock { $0.names.encodedPayload(for: name) }
            : state.withLockIfAvailable { $0.names.encodedPayload(for: name) } ?? nil
        guard let held,
            includingStale || !held.stale, let payload = NodePayload(encoded: held.bytes)
        else { return nil }
        if case .nodeID(let id) = name, payload.nodeID != id { return nil }
        var hasher = Hasher()
        hasher.combine(held.bytes)
        return (payload, held.hash.nodeHash, UInt64(bitPattern: Int64(hasher.finalize())))
    }

    /// Whether answers may come from the restored snapshot (restored and not distrusted).
    package var servesRestoredSnapshot: Bool { restoredTrusted.load(ordering: .acquiring) }

    // MARK: ZoneTransferSource

    package func currentVersion() -> (any ZoneVersion)? {
        guard let version = unsignedVersion() else { return nil }
        guard let transform = settings.transform else { return version }
        return transform.version(version)
    }

    /// The version as materialised, before any transform (DNSSEC).
    private func unsignedVersion() -> MaterializedZoneVersion? {
        state.withLock { state in
            guard state.live else { return nil }
            return MaterializedZoneVersion(
                serial: state.serial, soa: soa(state.serial), staticRecords: staticRecords,
                entries: state.names.entries, ttl: settings.positiveTTL)
        }
    }

    /// DNSSEC: a new version when signatures are due for renewal or the keys changed,
    /// even if nothing else did (checked by the signing service every `check_interval`;
    /// a zone that changes often renews them with its changes).
    package func renewSignaturesIfDue() {
        guard isLive, settings.transform?.isDue() == true else { return }
        commit([], at: state.withLock { $0.block })
    }

    package func differences(since serial: UInt32) -> [ZoneDifference]? {
        state.withLock { state in
            guard state.live else { return nil }
            return state.journal.differences(since: serial, soa: soa)
        }
    }

    /// The apex SOA with `serial`.
    package func soa(_ serial: UInt32) -> ResourceRecord { staticZone.soa.withSOASerial(serial) }

    /// The static zone's records but the apex SOA.
    private var staticRecords: [ResourceRecord] {
        staticZone.nodes.flatMap { node in
            node.types.flatMap { type in type == .soa && node.isApex ? [] : node.rrsets[type] ?? [] }
        }
    }
}

/// Where DNSSEC enters zone transfers: every version and difference the materialised
/// zone hands out goes through it (the NSEC3 signer maintains its chain per serial
/// from the unsigned differences, in serial order).
package protocol ZoneTransferTransform: Sendable {
    /// The first version (the zone went live): build whatever state the transform keeps.
    func start(_ version: any ZoneVersion)
    /// `start` without waiting for it (a restored zone answers meanwhile); `version`
    /// returns nil until it is done.
    func startInBackground(_ version: any ZoneVersion)
    /// The transformed version; nil when it cannot be served (transfers get SERVFAIL).
    func version(_ version: any ZoneVersion) -> (any ZoneVersion)?
    /// Called once per new serial, under the zone's commit, in order. Nil when it
    /// cannot be transformed: the journal restarts there (IXFR answers AXFR-style).
    func difference(_ difference: ZoneDifference) -> ZoneDifference?
    /// Whether a new serial is needed though nothing changed (signatures to renew).
    func isDue() -> Bool
}

extension ZoneTransferTransform {
    package func startInBackground(_ version: any ZoneVersion) { start(version) }
}

private struct ZoneMetrics: Sendable {
    let nodes = Gauge(label: "onebz_zone_nodes")
    let bytes = Gauge(label: "onebz_zone_bytes")
    let serial = Gauge(label: "onebz_zone_serial")
    let lookupFailures = Counter(label: "onebz_zone_lookup_failures_total")
}
