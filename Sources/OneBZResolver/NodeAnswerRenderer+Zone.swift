import DNSEngine
import DNSWire

extension NodeAnswerRenderer {
    /// The answer for `type` at `subname` of a node (`name` is the query name) from the
    /// records the materialised zone holds for the node (a restored snapshot's, before the
    /// follower's first sync): the same records, names, types and denials as
    /// `answer(_:name:subname:type:ttl:signing:)` gives from facts. A service name exists
    /// while the zone holds TLSA records for it: `_PORT._tcp` for that port, `_tcp` (an
    /// empty non-terminal) for any.
    package static func answer(
        zoneRecords: [NodePayload.Record], name: Name, subname: NodeSubname = .node, type: RRType, ttl: UInt32,
        signing: Signing?
    ) -> DynamicAnswer {
        let owner = name.lowercased
        let ports = Set(zoneRecords.compactMap { $0.type == .tlsa ? $0.subname.port : nil })
        let exists = subname == .node || (subname.port.map(ports.contains) ?? !ports.isEmpty)
        guard exists else {
            guard let signing else { return .nameError }
            return signed(.nameError, owner: owner, signing: signing, records: { nil }, types: { nil })
        }
        let held = zoneRecords.filter { $0.subname == subname }
        // RFC 8482 4.1, as the facts renderer: ANY is one RRset (TXT at the node name,
        // TLSA at a port name, nothing at `_tcp`).
        let wanted: RRType?
        if subname == .node {
            wanted = type == .any ? .txt : ([.a, .aaaa, .txt, .https] as [RRType]).contains(type) ? type : nil
        } else {
            wanted = subname.port != nil && (type == .tlsa || type == .any) ? .tlsa : nil
        }
        let records = held.filter { $0.type == wanted }.map {
            ResourceRecord(name: owner, type: $0.type, ttl: ttl, rdata: $0.rdata)
        }
        let plain = DynamicAnswer.records(name: owner, records)
        guard let signing else { return plain }
        // The NSEC bitmap's order, as `types(_:at:)`: TXT, then A, AAAA, HTTPS when held;
        // TLSA at a port name; nothing at `_tcp`.
        let types = Set(held.map(\.type))
        return signed(
            plain, owner: owner, signing: signing, records: { records },
            types: {
                if subname.port != nil { return [.tlsa] }
                guard subname == .node else { return [] }
                return [RRType.txt] + [RRType.a, .aaaa, .https].filter { types.contains($0) }
            })
    }
}
