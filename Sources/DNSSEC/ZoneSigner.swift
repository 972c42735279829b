import DNSWire

/// Signs RRsets of one zone with its active keys (online signing, as Knot's
/// `dnssec-signing: on` does), and makes the compact denial records (RFC 9824).
/// Immutable and pure: the time of signing is an argument.
public final class ZoneSigner: Sendable {
    public struct Timing: Sendable, Equatable {
        /// How long a signature is valid after its inception (RFC 4034 3.1.5).
        public var validity: UInt32
        /// Inception is backdated this much, for validators whose clocks lag.
        public var inceptionOffset: UInt32 = 3600
        /// A signature is renewed once less than this remains of its validity.
        public var refresh: UInt32

        public init(validity: UInt32, inceptionOffset: UInt32 = 3600, refresh: UInt32? = nil) {
            self.validity = validity
            self.inceptionOffset = inceptionOffset
            self.refresh = refresh ?? validity / 4
        }

        /// Static data (the zone file): 7 days, renewed with 1.75 days left.
        public static let staticDefault = Timing(validity: 7 * 86_400)
        /// Chain-backed answers: 2 days (they are re-rendered at least every TTL anyway).
        public static let dynamicDefault = Timing(validity: 2 * 86_400)
    }

    public let apex: Name
    /// Every key published in the DNSKEY RRset.
    public let keys: [SigningKey]
    /// The keys that sign (all of them: a CSK, or during a rollover old and new).
    public let activeKeys: [SigningKey]
    public let staticTiming: Timing
    public let dynamicTiming: Timing
    /// TTL of DNSKEY, CDS and CDNSKEY.
    public let keyTTL: UInt32
    /// The SEP keys CDS/CDNSKEY publish (what the parent's DS set should be).
    public let syncKeys: [SigningKey]

    public init(
        apex: Name, keys: [SigningKey], activeKeys: [SigningKey]? = nil, staticTiming: Timing = .staticDefault,
        dynamicTiming: Timing = .dynamicDefault, keyTTL: UInt32 = 3600, syncKeys: [SigningKey]? = nil
    ) {
        self.syncKeys = syncKeys ?? keys
        self.apex = apex.lowercased
        self.keys = keys
        self.activeKeys = activeKeys ?? keys
        self.staticTiming = staticTiming
        self.dynamicTiming = dynamicTiming
        self.keyTTL = keyTTL
    }

    // MARK: Apex records

    public var dnskeyRecords: [ResourceRecord] {
        keys.map { ResourceRecord(name: apex, type: .dnskey, ttl: keyTTL, rdata: $0.dnskeyRDATA) }
    }

    /// CDS (digest type 2) and CDNSKEY of the SEP keys (RFC 7344): what the parent
    /// should publish.
    public var childSyncRecords: [ResourceRecord] {
        let sep = syncKeys.filter(\.isSecureEntryPoint)
        return sep.map { ResourceRecord(name: apex, type: .cds, ttl: keyTTL, rdata: DSDigest.rdata(owner: apex, key: $0)) }
            + sep.map { ResourceRecord(name: apex, type: .cdnskey, ttl: keyTTL, rdata: $0.dnskeyRDATA) }
    }

    // MARK: Signing

    /// When signatures made at `now` with `timing` should be replaced.
    public func refreshDeadline(signedAt now: UInt32, timing: Timing) -> UInt32 {
        now &+ timing.validity &- timing.refresh
    }

    /// The RRSIGs (one per active key) over `rrset` (same owner, type and class).
    public func signatures(
        over rrset: [ResourceRecord], now: UInt32, timing: Timing, place: SignaturePlace = .other
    ) throws(DNSSECError) -> [ResourceRecord] {
        guard let first = rrset.first else { return [] }
        let ttl = first.ttl
        let inception = now &- timing.inceptionOffset
        let expiration = now &+ timing.validity
        let covered = CanonicalRRset.bytes(rrset, originalTTL: ttl)
        var result: [ResourceRecord] = []
        for key in activeKeys {
            var rdata: [UInt8] = []
            rdata.append(be16: first.type.rawValue)
            rdata.append(key.algorithm.rawValue)
            rdata.append(UInt8(Self.rrsigLabels(first.name)))
            rdata.append(be32: ttl)
            rdata.append(be32: expiration)
            rdata.append(be32: inception)
            rdata.append(be16: key.keyTag)
            rdata += apex.wire
            let signature = try key.sign(rdata + covered)
            result.append(
                ResourceRecord(name: first.name, type: .rrsig, rrClass: first.rrClass, ttl: ttl, rdata: rdata + signature))
        }
        place.counter.increment(by: result.count)
        return result
    }

    /// `records` (in order) with the RRSIGs of each RRset after it: consecutive records
    /// of one owner and type form an RRset. Only RRsets `include` accepts are signed
    /// (the others, e.g. glue, pass through unsigned).
    public func signingEach(
        _ records: [ResourceRecord], now: UInt32, timing: Timing, place: SignaturePlace = .other,
        including include: ([ResourceRecord]) -> Bool = { _ in true }
    ) throws(DNSSECError) -> [ResourceRecord] {
        try Self.interleaving(records, including: include) { rrset throws(DNSSECError) in
            try signatures(over: rrset, now: now, timing: timing, place: place)
        }
    }

    /// `records` (in order) with `sign(rrset)` after each RRset `include` accepts: the one
    /// loop behind `signingEach` here and in `SignatureMemo`.
    static func interleaving(
        _ records: [ResourceRecord], including include: ([ResourceRecord]) -> Bool,
        sign: ([ResourceRecord]) throws(DNSSECError) -> [ResourceRecord]
    ) throws(DNSSECError) -> [ResourceRecord] {
        var out: [ResourceRecord] = []
        for rrset in rrsets(records) {
            out += rrset
            if include(rrset) { out += try sign(rrset) }
        }
        return out
    }

    /// `records` cut into RRsets: consecutive records of one owner and type.
    static func rrsets(_ records: [ResourceRecord]) -> [[ResourceRecord]] {
        var out: [[ResourceRecord]] = []
        var start = 0
        while start < records.count {
            var end = start + 1
            while end < records.count, records[end].type == records[start].type,
                records[end].name == records[start].name
            {
                end += 1
            }
            out.append(Array(records[start..<end]))
            start = end
        }
        return out
    }

    /// RFC 4034 3.1.3: labels of the owner, without the root and a leading `*`.
    static func rrsigLabels(_ name: Name) -> Int {
        let count = name.labelCount
        if count > 0, name.wire[0] == 1, name.wire[1] == UInt8(ascii: "*") { return count - 1 }
        return count
    }

    // MARK: Compact denial (RFC 9824)

    /// The NSEC of compact denial for `owner`: next name the immediate successor
    /// (`\000.owner`), the types present plus RRSIG and NSEC; for a name that does not
    /// exist (`types` nil) RRSIG, NSEC and NXNAME (RFC 9824 3.1, 3.2).
    public func denialRecords(
        owner: Name, types: [RRType]?, ttl: UInt32, now: UInt32, timing: Timing, place: SignaturePlace = .other
    ) throws(DNSSECError) -> [ResourceRecord] {
        let nsec = denialNSEC(owner: owner, types: types, ttl: ttl)
        return [nsec] + (try signatures(over: [nsec], now: now, timing: timing, place: place))
    }

    /// The compact denial NSEC of `owner` (RFC 9824): next name `\000.owner`, the
    /// bitmap `types` (nil: NXNAME) plus RRSIG and NSEC.
    public func denialNSEC(owner: Name, types: [RRType]?, ttl: UInt32) -> ResourceRecord {
        let lower = owner.lowercased
        let next = lower.wire.count + 2 <= 255 ? [1, 0] + lower.wire : lower.wire
        var bitmapTypes = (types ?? [.nxname]) + [.rrsig, .nsec]
        bitmapTypes.removeAll { $0.isMetaType && $0 != .nxname }
        return ResourceRecord(name: owner, type: .nsec, ttl: ttl, rdata: next + TypeBitmap.encode(bitmapTypes))
    }
}

extension RRType {
    /// RFC 9824 2: the pseudo-type of a nonexistent name in compact denial.
    public static let nxname = RRType(128)
    public static let cds = RRType(59)
    public static let cdnskey = RRType(60)
}
