import DNSWire

/// What changed in a signed zone between two serials, as IXFR carries it (RFC 1995 2):
/// records to delete and records to add. The SOA records themselves are not in it (the
/// transfer writes the old and new SOA around them); the SOA's RRSIGs are.
public struct SignedZoneChange: Sendable, Equatable {
    public var removed: [ResourceRecord]
    public var added: [ResourceRecord]

    public init(removed: [ResourceRecord] = [], added: [ResourceRecord] = []) {
        self.removed = removed
        self.added = added
    }

    public var isEmpty: Bool { removed.isEmpty && added.isEmpty }
}
