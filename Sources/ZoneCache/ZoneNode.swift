import DNSWire

/// One owner name of the zone with its RRsets. Empty non-terminals are nodes with no
/// RRsets (RFC 8020: they exist, so below-them names are NXDOMAIN and they are NODATA).
public struct ZoneNode: Sendable {
    public let name: Name
    /// RRsets by type, records in file order.
    public let rrsets: [RRType: [ResourceRecord]]
    /// Types present, ascending (stable order for minimal ANY).
    public let types: [RRType]
    /// The index of the delegation point at or above this node (excluding the apex);
    /// nil when the zone is authoritative for this name.
    public let cut: Int?
    public let isApex: Bool

    /// A delegation point: NS records at a name other than the apex.
    public var isDelegation: Bool { !isApex && rrsets[.ns] != nil }
}
