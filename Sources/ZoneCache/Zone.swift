import DNSWire

/// The static zone as an immutable snapshot: nodes (owners and empty non-terminals),
/// delegation cuts resolved for every node, and a byte-level name table so lookups
/// allocate nothing. Built once at load time; swapped whole, never mutated.
public struct Zone: Sendable {
    public let apex: Name
    public let soa: ResourceRecord
    public let nodes: [ZoneNode]
    private let table: NameTable

    /// Loads and validates a master file (see `init(apex:records:source:)`).
    public init(file path: String, apex: Name) throws(ZoneError) {
        let records = try ZoneFileLoader.load(path: path, origin: apex)
        try self.init(apex: apex, records: records, source: path)
    }

    /// Builds the snapshot. Rejects: names outside the apex, a missing or repeated SOA,
    /// no NS at the apex, classes other than IN, CNAME beside other data (RFC 1034 3.6.2).
    public init(apex: Name, records: [ResourceRecord], source: String = "zone") throws(ZoneError) {
        func fail(_ reason: String) -> ZoneError { ZoneError(file: source, line: nil, reason: reason) }
        var byName: [Name: [RRType: [ResourceRecord]]] = [:]
        var order: [Name] = []
        for record in records {
            guard record.name.isSubdomain(of: apex) else { throw fail("\(record.name) is outside the zone \(apex)") }
            guard record.rrClass == .in else {
                throw fail("\(record.name) has class \(record.rrClass), only IN is served")
            }
            guard !record.type.isMetaType else { throw fail("\(record.name) has meta type \(record.type)") }
            if byName[record.name] == nil { order.append(record.name) }
            var rrset = byName[record.name, default: [:]][record.type, default: []]
            // RFC 2181 5.2: one TTL per RRset; the first one wins. Duplicates collapse.
            var record = record
            if let first = rrset.first { record.ttl = first.ttl }
            if !rrset.contains(where: { $0.rdata == record.rdata }) { rrset.append(record) }
            byName[record.name, default: [:]][record.type] = rrset
        }
        guard let soas = byName[apex]?[.soa], soas.count == 1 else {
            throw fail("the apex \(apex) needs exactly one SOA")
        }
        guard byName[apex]?[.ns] != nil else { throw fail("the apex \(apex) has no NS records") }
        if byName.values.contains(where: { $0.count > 1 && $0[.cname] != nil }) {
            throw fail("a CNAME shares its owner with other data")
        }
        // Empty non-terminals: every ancestor between an owner and the apex is a node.
        for name in order {
            var ancestor = name.parent
            while ancestor.isSubdomain(of: apex), ancestor != apex, byName[ancestor] == nil {
                byName[ancestor] = [:]
                order.append(ancestor)
                ancestor = ancestor.parent
            }
        }
        if byName[apex] == nil { order.append(apex) }
        // Shorter names first so a node's cut is known before its descendants'.
        order.sort { $0.labelCount < $1.labelCount }
        var indexOf: [Name: Int] = [:]
        var nodes: [ZoneNode] = []
        for name in order {
            let rrsets = byName[name] ?? [:]
            let isApex = name == apex
            var cut: Int? = nil
            if !isApex, let parentIndex = indexOf[name.parent] { cut = nodes[parentIndex].cut }
            if cut == nil, !isApex, rrsets[.ns] != nil { cut = nodes.count }
            indexOf[name] = nodes.count
            nodes.append(
                ZoneNode(
                    name: name, rrsets: rrsets, types: rrsets.keys.sorted { $0.rawValue < $1.rawValue },
                    cut: cut, isApex: isApex))
        }
        self.apex = apex
        self.soa = soas[0]
        self.nodes = nodes
        self.table = NameTable(nodes.map(\.name))
    }

    public func node(named name: Name) -> ZoneNode? {
        table.index(of: name).map { nodes[$0] }
    }

    public func lookup(_ name: Name) -> ZoneLookup {
        name.wire.withUnsafeBytes { lookup(wire: $0) }
    }

    /// Classifies a query name given as uncompressed wire bytes (already validated).
    /// Tries the full name, then each shorter suffix: the first hit is the closest
    /// encloser; no hit at all means the name is outside the zone.
    public func lookup(wire: UnsafeRawBufferPointer) -> ZoneLookup {
        var start = 0
        var extraLabels = 0
        while start < wire.count {
            if let index = table.index(of: UnsafeRawBufferPointer(rebasing: wire[start...])) {
                return extraLabels == 0 ? .exact(index) : .below(encloser: index, extraLabels: extraLabels)
            }
            let length = Int(wire[start])
            if length == 0 { break }
            start += 1 + length
            extraLabels += 1
        }
        return .outOfZone
    }
}
