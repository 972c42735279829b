import DNSWire

/// The zone as secondaries receive it by AXFR/IXFR: fully signed, with an NSEC3 chain
/// (RFC 5155, no opt-out, parameters per RFC 9276), kept current change by change.
///
/// - The state is the zone itself: one packed byte array per name (its RRsets, their
///   signatures, the NSEC3 published for it and that NSEC3's signatures), in an array
///   sorted by NSEC3 hash, which is the chain's order. A name is found by hashing it.
/// - `apply` takes a change of the unsigned zone and returns the change of the signed
///   zone: only the changed RRsets, the NSEC3s whose next hash or bitmap changed
///   (predecessors of names entering or leaving the chain, empty non-terminals appearing
///   or disappearing) and the SOA are re-signed.
/// - `refresh` re-signs what enters the refresh window (or every signature after a
///   change of the signing keys). Signature lifetimes get a per-name jitter of up to half
///   the refresh window, so a zone signed at once is not re-signed at once.
///
/// What is signed (RFC 4035 2.2): every authoritative RRset; at a delegation only the
/// DS (the NS set is the child's); glue and data below a cut neither, and those names
/// are not in the chain. The NSEC3 TTL is min(SOA TTL, SOA minimum) (RFC 9077 3.2).
/// DNSKEY, CDS, CDNSKEY (from the signer) and NSEC3PARAM at the apex are the
/// maintainer's: such records in the input are ignored, as are RRSIG, NSEC and NSEC3.
///
/// Pure: the time is an argument. A value type; a snapshot (`signedZone`) is a copy.
public struct NSEC3ZoneMaintainer: Sendable {
    public let apex: Name
    public let parameters: NSEC3Parameters
    /// The keys that sign (replaced by `refresh(now:signer:)`).
    public private(set) var signer: ZoneSigner
    public let timing: ZoneSigner.Timing
    public private(set) var soa: ResourceRecord
    /// No signature needs renewing before this time (`refresh` is free until then).
    public private(set) var nextRefresh: UInt32 = .max
    private var renderer: Renderer
    private let apexHash: NSEC3Hash
    /// Every name (with data, empty non-terminal, glue), sorted by hash.
    private var entries: [Entry] = []

    struct Entry: Sendable {
        var hash: NSEC3Hash
        /// When the earliest of the name's signatures enters the refresh window
        /// (fits the padding after the 20-byte hash).
        var due: UInt32
        var blob: [UInt8]
    }

    /// Renders a node's records: shared with the snapshots.
    struct Renderer: Sendable {
        let apex: Name
        let parameters: NSEC3Parameters
        var nsec3TTL: UInt32
        /// The hashes of the apex and of `*.apex`: in every name error one label below
        /// the apex (the closest encloser and its wildcard), hashed once here.
        let apexHash: NSEC3Hash
        let apexWildcardHash: NSEC3Hash

        init(apex: Name, parameters: NSEC3Parameters, nsec3TTL: UInt32) {
            self.apex = apex
            self.parameters = parameters
            self.nsec3TTL = nsec3TTL
            apexHash = parameters.hash(apex)
            apexWildcardHash = parameters.hash(apex.wildcard)
        }

        /// The node's records (its SOA aside, its SOA's RRSIGs included), then its NSEC3 and RRSIGs.
        func records(of node: NSEC3ZoneNode, hash: NSEC3Hash) -> [ResourceRecord] {
            var out: [ResourceRecord] = []
            for rrset in node.rrsets {
                if rrset.type != .soa {
                    for rdata in rrset.rdatas {
                        out.append(ResourceRecord(name: node.owner, type: rrset.type, ttl: rrset.ttl, rdata: rdata))
                    }
                }
                for signature in rrset.signatures {
                    out.append(rrsig(signature, owner: node.owner, type: rrset.type, ttl: rrset.ttl))
                }
            }
            if let nsec3 = node.nsec3 {
                let owner = parameters.hashedOwner(hash, apex: apex)
                out.append(ResourceRecord(name: owner, type: .nsec3, ttl: nsec3TTL, rdata: nsec3))
                for signature in node.nsec3Signatures {
                    out.append(rrsig(signature, owner: owner, type: .nsec3, ttl: nsec3TTL))
                }
            }
            return out
        }

        /// RFC 4034 3.1: the RRSIG RDATA rebuilt from its stored parts.
        func rrsig(_ signature: NSEC3ZoneNode.Signature, owner: Name, type: RRType, ttl: UInt32) -> ResourceRecord {
            var rdata: [UInt8] = []
            rdata.reserveCapacity(18 + apex.wire.count + signature.bytes.count)
            rdata.append(be16: type.rawValue)
            rdata.append(signature.algorithm)
            rdata.append(UInt8(ZoneSigner.rrsigLabels(owner)))
            rdata.append(be32: ttl)
            rdata.append(be32: signature.expiration)
            rdata.append(be32: signature.inception)
            rdata.append(be16: signature.keyTag)
            rdata += apex.wire
            rdata += signature.bytes
            return ResourceRecord(name: owner, type: .rrsig, ttl: ttl, rdata: rdata)
        }
    }

    // MARK: Building

    /// Signs `zone` (the unsigned zone: the apex SOA and NS, every other record,
    /// delegations with NS, DS and glue) at `now`: the DNSKEY, CDS and CDNSKEY sets from
    /// `signer`'s keys, NSEC3PARAM, one NSEC3 per authoritative name and per empty
    /// non-terminal, the RRSIGs. `timing` defaults to the signer's static timing.
    public init(
        zone: some Sequence<ResourceRecord>, signer: ZoneSigner, now: UInt32, timing: ZoneSigner.Timing? = nil,
        parameters: NSEC3Parameters = .rfc9276
    ) throws(DNSSECError) {
        apex = signer.apex
        self.signer = signer
        self.timing = timing ?? signer.staticTiming
        self.parameters = parameters
        apexHash = parameters.hash(signer.apex)
        renderer = Renderer(apex: signer.apex, parameters: parameters, nsec3TTL: 0)
        soa = ResourceRecord(name: signer.apex, type: .soa, ttl: 0, rdata: [])
        var foundSOA: ResourceRecord? = nil
        var chunk: [ResourceRecord] = []
        // In chunks, so a large zone is never held twice in unpacked form.
        for record in zone {
            if record.type == .soa, record.name == apex {
                foundSOA = record
                continue
            }
            chunk.append(record)
            if chunk.count == 65_536 {
                var work = Work(capture: false)
                try stage(&work, removed: [], added: chunk)
                try settle(&work)
                _ = try commit(&work, now: now, sign: false)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        guard let foundSOA, foundSOA.rdata.count >= 22 else {
            throw DNSSECError("the zone \(signer.apex) has no SOA record at its apex")
        }
        var work = Work(capture: false)
        try setSOA(&work, foundSOA)
        try setApexKeys(&work)
        try stage(&work, removed: [], added: chunk)
        try settle(&work)
        _ = try commit(&work, now: now, sign: false)
        for index in entries.indices { try signEntry(at: index, now: now) }
    }

    /// The signed zone from scratch (SOA first): what `init` builds, as one array.
    public static func signedRecords(
        zone: [ResourceRecord], signer: ZoneSigner, now: UInt32, timing: ZoneSigner.Timing? = nil,
        parameters: NSEC3Parameters = .rfc9276
    ) throws(DNSSECError) -> [ResourceRecord] {
        try NSEC3ZoneMaintainer(zone: zone, signer: signer, now: now, timing: timing, parameters: parameters)
            .allRecords()
    }

    // MARK: Reading

    /// The zone as it is now (SOA in `soa`, every other record by iterating).
    public var signedZone: NSEC3SignedZone { NSEC3SignedZone(soa: soa, entries: entries, renderer: renderer) }

    /// The whole signed zone, SOA first (for tests and small zones; a transfer iterates
    /// `signedZone` instead).
    public func allRecords() -> [ResourceRecord] { [soa] + Array(signedZone) }

    /// Names held: with data, empty non-terminals, glue.
    public var nameCount: Int { entries.count }

    /// Bytes held: the sorted index plus every name's packed bytes (each with the
    /// array header and allocation overhead: 32 + 16 bytes).
    public var storageBytes: Int {
        entries.capacity * MemoryLayout<Entry>.stride + entries.reduce(0) { $0 + $1.blob.capacity + 48 }
    }

    // MARK: Changes

    /// Applies a change of the unsigned zone (records removed, records added, the new
    /// SOA; a SOA among `added` counts as the new SOA) and returns the change of the
    /// signed zone, signed at `now`. Removing an absent record or adding a present one
    /// changes nothing. Signatures due for renewal at `now` are renewed in the same
    /// change (unless `refreshing` is false), so a primary whose zone changes more often
    /// than the refresh window never needs a serial for `refresh` alone.
    public mutating func apply(
        removed: [ResourceRecord], added: [ResourceRecord], newSOA: ResourceRecord? = nil, now: UInt32,
        refreshing: Bool = true
    ) throws(DNSSECError) -> SignedZoneChange {
        for record in removed + added + (newSOA.map { [$0] } ?? []) where !record.name.isSubdomain(of: apex) {
            throw DNSSECError("\(record.name) is not in the zone \(apex)")
        }
        var work = Work(capture: true)
        if let newSOA = newSOA ?? added.last(where: { $0.type == .soa && $0.name == apex }) {
            try setSOA(&work, newSOA)
        }
        try stage(&work, removed: removed, added: added)
        try settle(&work)
        let due = refreshing && now >= nextRefresh
        if due { try touchDue(&work, now: now, all: false) }
        let change = try commit(&work, now: now, sign: true)
        if due { nextRefresh = entries.reduce(UInt32.max) { min($0, $1.due) } }
        return change
    }

    /// Re-signs every RRset and NSEC3 whose signatures enter the refresh window at `now`
    /// (nothing before `nextRefresh`). With `signer`, the keys are replaced first: the
    /// DNSKEY, CDS and CDNSKEY sets follow it, and when the signing keys differ every
    /// signature is made again with the new ones (a key rollover's double signature).
    /// A non-empty change is a new version of the zone: pass its SOA (a higher serial)
    /// as `newSOA`, or the secondaries never see it.
    public mutating func refresh(
        now: UInt32, signer newSigner: ZoneSigner? = nil, newSOA: ResourceRecord? = nil
    ) throws(DNSSECError) -> SignedZoneChange {
        var work = Work(capture: true)
        if let newSOA {
            guard newSOA.name == apex else { throw DNSSECError("\(newSOA.name) is not the apex of \(apex)") }
            try setSOA(&work, newSOA)
        }
        var keysChanged = false
        if let newSigner {
            guard newSigner.apex == apex else {
                throw DNSSECError("the signer is for \(newSigner.apex), not \(apex)")
            }
            keysChanged = Self.tags(newSigner.activeKeys) != Self.tags(signer.activeKeys)
            signer = newSigner
            try setApexKeys(&work)
        }
        if keysChanged || now >= nextRefresh { try touchDue(&work, now: now, all: keysChanged) }
        let change = try commit(&work, now: now, sign: true)
        nextRefresh = entries.reduce(UInt32.max) { min($0, $1.due) }
        return change
    }

    // MARK: Work on a set of names

    /// The names a change works on, unpacked, with what they published before.
    private struct Work {
        var nodes: [NSEC3Hash: Touched] = [:]
        /// Whether to record the old records (not while building).
        let capture: Bool
    }

    private struct Touched {
        var node: NSEC3ZoneNode
        var old: [ResourceRecord]
        var existedBefore: Bool
        var inChainBefore: Bool
        var wasDelegation: Bool
        /// Whether the parent's `children` counts this name.
        var counted: Bool
    }

    /// Brings in every name with a signature due at `now` (or all of them).
    private func touchDue(_ work: inout Work, now: UInt32, all: Bool) throws(DNSSECError) {
        for index in entries.indices where all || now >= entries[index].due {
            try touch(&work, entries[index].hash, owner: nil)
        }
    }

    /// Brings a name into the work (once), unpacked, remembering its records.
    @discardableResult
    private func touch(_ work: inout Work, _ hash: NSEC3Hash, owner: Name?) throws(DNSSECError) -> NSEC3Hash {
        guard work.nodes[hash] == nil else {
            if let owner, work.nodes[hash]!.node.owner != owner { throw collision(owner, work.nodes[hash]!.node.owner) }
            return hash
        }
        let node: NSEC3ZoneNode
        let existed: Bool
        if let index = index(of: hash) {
            node = NSEC3ZoneNode(decoding: entries[index].blob)
            existed = true
            if let owner, node.owner != owner { throw collision(owner, node.owner) }
        } else {
            guard let owner else { throw DNSSECError("internal: touched a name that is not in the zone") }
            node = NSEC3ZoneNode(owner: owner)
            existed = false
        }
        work.nodes[hash] = Touched(
            node: node, old: work.capture && existed ? renderer.records(of: node, hash: hash) : [],
            existedBefore: existed, inChainBefore: existed && !node.occluded,
            wasDelegation: node.isDelegation(apex: apex), counted: existed)
        return hash
    }

    private func collision(_ a: Name, _ b: Name) -> DNSSECError {
        DNSSECError("NSEC3 hash collision between \(a) and \(b): change the NSEC3 salt")
    }

    private func exists(_ touched: Touched, _ hash: NSEC3Hash) -> Bool {
        hash == apexHash || touched.node.hasData || touched.node.children > 0
    }

    private static let signerOwned: Set<RRType> = [.dnskey, .cds, .cdnskey, .nsec3param, .nsec3, .rrsig, .nsec, .soa]

    /// The record changes, name by name.
    private mutating func stage(_ work: inout Work, removed: [ResourceRecord], added: [ResourceRecord])
        throws(DNSSECError)
    {
        for record in removed where !Self.signerOwned.contains(record.type) && !record.type.isMetaType {
            let owner = record.name.lowercased
            let hash = try touch(&work, parameters.hash(owner), owner: owner)
            work.nodes[hash]!.node.remove(type: record.type, rdata: record.rdata)
        }
        for record in added where !Self.signerOwned.contains(record.type) && !record.type.isMetaType {
            let owner = record.name.lowercased
            guard owner.isSubdomain(of: apex) else { throw DNSSECError("\(record.name) is not in the zone \(apex)") }
            let hash = try touch(&work, parameters.hash(owner), owner: owner)
            work.nodes[hash]!.node.add(type: record.type, ttl: record.ttl, rdata: record.rdata)
        }
    }

    private mutating func setSOA(_ work: inout Work, _ record: ResourceRecord) throws(DNSSECError) {
        guard record.rdata.count >= 22 else { throw DNSSECError("the SOA of \(apex) is malformed") }
        let ttl = min(record.ttl, UInt32(bigEndianBytes: record.rdata.suffix(4)))  // RFC 9077 3.2
        if ttl != renderer.nsec3TTL, work.capture {
            // Every NSEC3 changes TTL: remember them with the old one, then re-sign all.
            for entry in entries { try touch(&work, entry.hash, owner: nil) }
            for hash in Array(work.nodes.keys) { work.nodes[hash]!.node.nsec3 = nil }
        }
        renderer.nsec3TTL = ttl
        try touch(&work, apexHash, owner: apex)
        work.nodes[apexHash]!.node.replace(type: .soa, ttl: record.ttl, rdatas: [record.rdata])
        soa = ResourceRecord(name: apex, type: .soa, ttl: record.ttl, rdata: record.rdata)
    }

    private mutating func setApexKeys(_ work: inout Work) throws(DNSSECError) {
        try touch(&work, apexHash, owner: apex)
        let sync = signer.childSyncRecords
        var node = work.nodes[apexHash]!.node
        node.replace(type: .dnskey, ttl: signer.keyTTL, rdatas: signer.dnskeyRecords.map(\.rdata))
        node.replace(type: .cds, ttl: signer.keyTTL, rdatas: sync.filter { $0.type == .cds }.map(\.rdata))
        node.replace(type: .cdnskey, ttl: signer.keyTTL, rdatas: sync.filter { $0.type == .cdnskey }.map(\.rdata))
        node.replace(type: .nsec3param, ttl: 0, rdatas: [parameters.nsec3paramRDATA])
        work.nodes[apexHash]!.node = node
    }

    /// Existence (a name with no data but names below it is an empty non-terminal; a
    /// name with neither is gone), then zone cuts: names below a cut are occluded.
    private mutating func settle(_ work: inout Work) throws(DNSSECError) {
        var pending = Array(work.nodes.keys)
        while let hash = pending.popLast() {
            guard hash != apexHash, let touched = work.nodes[hash] else { continue }
            let present = exists(touched, hash)
            guard present != touched.counted else { continue }
            work.nodes[hash]!.counted = present
            let parent = touched.node.owner.parent
            let parentHash = try touch(&work, parameters.hash(parent), owner: parent)
            if present { work.nodes[parentHash]!.node.children += 1 } else { work.nodes[parentHash]!.node.children -= 1 }
            pending.append(parentHash)
        }
        // A cut that appeared or went away above names already in the zone: those
        // names change sides (rare: a full scan).
        let cuts = work.nodes.values.filter {
            $0.wasDelegation != $0.node.isDelegation(apex: apex) && $0.node.children > 0
        }.map(\.node.owner)
        if !cuts.isEmpty {
            for entry in entries where work.nodes[entry.hash] == nil {
                let owner = NSEC3ZoneNode.owner(ofEncoded: entry.blob)
                if cuts.contains(where: { owner != $0 && owner.isSubdomain(of: $0) }) {
                    try touch(&work, entry.hash, owner: owner)
                }
            }
        }
        for hash in Array(work.nodes.keys) {
            work.nodes[hash]!.node.occluded = isBelowCut(work.nodes[hash]!.node.owner, work)
        }
    }

    /// Whether a name strictly between `owner` and the apex is a delegation.
    private func isBelowCut(_ owner: Name, _ work: Work) -> Bool {
        var name = owner
        while name != apex, !name.isRoot {
            name = name.parent
            guard name != apex else { return false }
            let hash = parameters.hash(name)
            if let touched = work.nodes[hash] {
                if touched.node.isDelegation(apex: apex) { return true }
            } else if let index = index(of: hash), entries[index].blob[0] & NSEC3ZoneNode.delegationFlag != 0 {
                return true
            }
        }
        return false
    }

    /// Writes the work back: names gone and new, then (when signing) the chain
    /// neighbours whose next hash changed are brought in, everything touched is
    /// signed where it needs to be, and the difference is taken name by name.
    private mutating func commit(_ work: inout Work, now: UInt32, sign: Bool) throws(DNSSECError)
        -> SignedZoneChange
    {
        var gone: [NSEC3Hash] = []
        var new: [Entry] = []
        for (hash, touched) in work.nodes {
            let present = exists(touched, hash)
            if touched.existedBefore, !present {
                gone.append(hash)
            } else if present {
                let entry = Entry(hash: hash, due: .max, blob: touched.node.encoded(apex: apex))
                if touched.existedBefore { entries[index(of: hash)!] = entry } else { new.append(entry) }
            }
        }
        remove(gone)
        insert(new)
        guard sign else { return SignedZoneChange() }

        // RFC 5155 7.1: the predecessor of a name entering or leaving the chain gets a new next hash.
        let moved = work.nodes.filter { hash, touched in
            touched.inChainBefore != (exists(touched, hash) && !touched.node.occluded)
        }.keys
        for hash in moved {
            if let predecessor = predecessorInChain(of: hash) { try touch(&work, predecessor, owner: nil) }
        }
        for (hash, touched) in work.nodes where exists(touched, hash) {
            try signEntry(at: index(of: hash)!, now: now)
        }
        guard work.capture else { return SignedZoneChange() }
        var change = SignedZoneChange()
        for (hash, touched) in work.nodes {
            let current: [ResourceRecord]
            if exists(touched, hash), let index = index(of: hash) {
                current = renderer.records(of: NSEC3ZoneNode(decoding: entries[index].blob), hash: hash)
            } else {
                current = []
            }
            let before = Set(touched.old)
            let after = Set(current)
            change.removed += touched.old.filter { !after.contains($0) }
            change.added += current.filter { !before.contains($0) }
        }
        return change
    }

    // MARK: Signing

    /// Signs what needs it at `entries[index]`: RRsets without (valid, current)
    /// signatures, and its NSEC3 when next hash or bitmap changed.
    private mutating func signEntry(at index: Int, now: UInt32) throws(DNSSECError) {
        let hash = entries[index].hash
        var node = NSEC3ZoneNode(decoding: entries[index].blob)
        let timing = jittered(hash)
        let inChain = !node.occluded
        let delegation = node.isDelegation(apex: apex)
        let active = Self.tags(signer.activeKeys)
        let window = self.timing.refresh
        func needsSigning(_ signatures: [NSEC3ZoneNode.Signature]) -> Bool {
            signatures.isEmpty || Set(signatures.map(\.keyTag)) != active
                || signatures.contains { now >= $0.expiration &- window }
        }
        for position in node.rrsets.indices {
            let rrset = node.rrsets[position]
            // RFC 4035 2.2: at a cut only the DS is ours to sign.
            guard inChain, !delegation || rrset.type == .ds else {
                node.rrsets[position].signatures = []
                continue
            }
            guard needsSigning(rrset.signatures) else { continue }
            let records = rrset.rdatas.map {
                ResourceRecord(name: node.owner, type: rrset.type, ttl: rrset.ttl, rdata: $0)
            }
            node.rrsets[position].signatures = try signer.signatures(over: records, now: now, timing: timing, place: .transfer).map(
                compact)
        }
        if inChain {
            let rdata = parameters.nsec3RDATA(next: nextInChain(after: index), types: bitmapTypes(node, delegation))
            if node.nsec3 != rdata || needsSigning(node.nsec3Signatures) {
                node.nsec3 = rdata
                let record = ResourceRecord(
                    name: parameters.hashedOwner(hash, apex: apex), type: .nsec3, ttl: renderer.nsec3TTL, rdata: rdata)
                node.nsec3Signatures = try signer.signatures(over: [record], now: now, timing: timing, place: .transfer).map(compact)
            }
        } else {
            node.nsec3 = nil
            node.nsec3Signatures = []
        }
        let signatures = node.rrsets.flatMap(\.signatures) + node.nsec3Signatures
        let due = signatures.reduce(UInt32.max) { min($0, $1.expiration &- window) }
        entries[index] = Entry(hash: hash, due: due, blob: node.encoded(apex: apex))
        nextRefresh = min(nextRefresh, due)
    }

    /// RFC 5155 3.2.1 / 7.1: the types at the name, RRSIG when any is signed; at a
    /// delegation NS, and DS with RRSIG when there is a DS; nothing at an empty non-terminal.
    private func bitmapTypes(_ node: NSEC3ZoneNode, _ delegation: Bool) -> [RRType] {
        if delegation { return node.rrset(.ds) != nil ? [.ns, .ds, .rrsig] : [.ns] }
        let types = node.rrsets.map(\.type)
        return types.isEmpty ? [] : types + [.rrsig]
    }

    /// The signatures of one name expire at staggered times (up to half the refresh
    /// window earlier, by its hash), so refreshes spread out.
    private func jittered(_ hash: NSEC3Hash) -> ZoneSigner.Timing {
        let spread = max(timing.refresh / 2, 1)
        let jitter = UInt32(truncatingIfNeeded: hash.low) % spread
        return ZoneSigner.Timing(
            validity: timing.validity &- jitter, inceptionOffset: timing.inceptionOffset, refresh: timing.refresh)
    }

    private func compact(_ rrsig: ResourceRecord) -> NSEC3ZoneNode.Signature {
        let rdata = rrsig.rdata
        return NSEC3ZoneNode.Signature(
            keyTag: UInt16(rdata[16]) << 8 | UInt16(rdata[17]), algorithm: rdata[2],
            inception: UInt32(bigEndianBytes: rdata[12..<16]), expiration: UInt32(bigEndianBytes: rdata[8..<12]),
            bytes: Array(rdata[(18 + apex.wire.count)...]))
    }

    private static func tags(_ keys: [SigningKey]) -> Set<UInt16> { Set(keys.map(\.keyTag)) }

    // MARK: The sorted index

    private func lowerBound(_ hash: NSEC3Hash) -> Int { entries.lowerBound(hash) }

    private func index(of hash: NSEC3Hash) -> Int? {
        let position = lowerBound(hash)
        return position < entries.count && entries[position].hash == hash ? position : nil
    }

    private func inChain(_ entry: Entry) -> Bool { entry.blob[0] & NSEC3ZoneNode.occludedFlag == 0 }

    /// The next name in the chain after `entries[index]`, cyclically (itself when alone).
    private func nextInChain(after index: Int) -> NSEC3Hash {
        var position = index
        repeat { position = (position + 1) % entries.count } while position != index && !inChain(entries[position])
        return entries[position].hash
    }

    /// The name before `hash`'s place in the chain (present or not), cyclically.
    private func predecessorInChain(of hash: NSEC3Hash) -> NSEC3Hash? {
        guard !entries.isEmpty else { return nil }
        var position = lowerBound(hash)
        for _ in 0..<entries.count {
            position = (position - 1 + entries.count) % entries.count
            if entries[position].hash != hash, inChain(entries[position]) { return entries[position].hash }
        }
        return nil
    }

    private mutating func remove(_ hashes: [NSEC3Hash]) {
        guard !hashes.isEmpty else { return }
        if hashes.count < 16 {
            for hash in hashes { if let index = index(of: hash) { entries.remove(at: index) } }
        } else {
            let gone = Set(hashes)
            entries.removeAll { gone.contains($0.hash) }
        }
    }

    /// Few names: one insertion each; many: one merge.
    private mutating func insert(_ new: [Entry]) {
        guard !new.isEmpty else { return }
        let sorted = new.sorted { $0.hash < $1.hash }
        if sorted.count < 16 {
            for entry in sorted { entries.insert(entry, at: lowerBound(entry.hash)) }
            return
        }
        var merged: [Entry] = []
        merged.reserveCapacity(entries.count + sorted.count)
        var i = 0
        var j = 0
        while i < entries.count || j < sorted.count {
            if j == sorted.count || (i < entries.count && entries[i].hash < sorted[j].hash) {
                merged.append(entries[i])
                i += 1
            } else {
                merged.append(sorted[j])
                j += 1
            }
        }
        entries = merged
    }
}

extension [NSEC3ZoneMaintainer.Entry] {
    /// The first position whose hash is not below `hash` (the entries are in hash order:
    /// the chain's order), for the maintainer and for the snapshots it publishes.
    func lowerBound(_ hash: NSEC3Hash) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle].hash < hash { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
