import DNSWire

/// The per-name part of a signed negative answer (RFC 9824 compact denial: the NSEC
/// for the query name and its RRSIGs; or, with `denial = "nsec3"`, the NSEC3s of the
/// proof copied from the signed chain), pre-rendered without compression so the bytes
/// fit after any authority section. The SOA and its RRSIG come from the zone served at
/// the time of the answer (so a cached negative never carries an old serial); only this
/// part is cached with the name.
public struct SignedDenial: Sendable {
    public let tail: [UInt8]
    public let count: UInt16

    public init(records: [ResourceRecord]) {
        var encoder = MessageEncoder(base: 0, compress: false)
        for record in records { encoder.write(record: record) }
        tail = Array(encoder.bytes)
        count = UInt16(records.count)
    }

    /// Records already in wire form (uncompressed): `count` of them in `tail`.
    public init(tail: [UInt8], count: UInt16) {
        self.tail = tail
        self.count = count
    }
}
