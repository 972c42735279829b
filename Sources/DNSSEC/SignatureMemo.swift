import DNSWire

/// The RRSIGs already made over RRsets by one signer at one signing time, by the RRset
/// they cover: a prepared static zone signs each RRset once (the SOA heads every
/// negative answer), and the next one, made for a new serial, starts from the last
/// one's memo, so only the new SOA RRset is signed again (docs/dnssec.md).
public struct SignatureMemo: Sendable {
    private var sets: [[UInt8]: [ResourceRecord]] = [:]
    /// The memo of the snapshot this one replaces: looked in, and only what is used
    /// again is kept (`settled()`), so old SOA signatures do not pile up.
    private var inherited: [[UInt8]: [ResourceRecord]] = [:]
    /// RRSIGs made through this memo (not found in it).
    public private(set) var made = 0

    public init() {}

    /// A memo that reuses `previous`'s signatures (made by the same signer at the same
    /// signing time: the caller's promise).
    public init(reusing previous: SignatureMemo?) {
        inherited = previous?.sets ?? [:]
    }

    /// The memo holding only the signatures used since it was made.
    public func settled() -> SignatureMemo {
        var memo = self
        memo.inherited = [:]
        return memo
    }

    /// The RRSIGs over `rrset` (one owner, type and class): the memo's, else made now.
    public mutating func signatures(
        over rrset: [ResourceRecord], signer: ZoneSigner, now: UInt32, timing: ZoneSigner.Timing
    ) throws(DNSSECError) -> [ResourceRecord] {
        guard let first = rrset.first else { return [] }
        // The owner as written (the RRSIG carries it) and the covered data.
        let key = first.name.wire + CanonicalRRset.bytes(rrset, originalTTL: first.ttl)
        if let found = sets[key] { return found }
        if let found = inherited[key] {
            sets[key] = found
            return found
        }
        let signatures = try signer.signatures(over: rrset, now: now, timing: timing, place: .staticZone)
        made += signatures.count
        sets[key] = signatures
        return signatures
    }

    /// `ZoneSigner.signingEach` through the memo.
    public mutating func signingEach(
        _ records: [ResourceRecord], signer: ZoneSigner, now: UInt32, timing: ZoneSigner.Timing,
        including include: ([ResourceRecord]) -> Bool = { _ in true }
    ) throws(DNSSECError) -> [ResourceRecord] {
        try ZoneSigner.interleaving(records, including: include) { rrset throws(DNSSECError) in
            try signatures(over: rrset, signer: signer, now: now, timing: timing)
        }
    }

    /// `ZoneSigner.denialRecords` through the memo.
    public mutating func denialRecords(
        owner: Name, types: [RRType]?, ttl: UInt32, signer: ZoneSigner, now: UInt32, timing: ZoneSigner.Timing
    ) throws(DNSSECError) -> [ResourceRecord] {
        let nsec = signer.denialNSEC(owner: owner, types: types, ttl: ttl)
        return [nsec] + (try signatures(over: [nsec], signer: signer, now: now, timing: timing))
    }
}
