import DNSEngine
import DNSWire

extension NodeAnswerRenderer {
    /// The answer for `type` at the node's own name (not a service name: the caller
    /// sends those the usual way) from the records the materialised zone holds for the
    /// node (a restored snapshot's, before the follower's first sync): the same records,
    /// types and denials as `answer(_:name:type:ttl:signing:)` gives from facts.
    package static func answer(
        zoneRecords: [NodePayload.Record], name: Name, type: RRType, ttl: UInt32, signing: Signing?
    ) -> DynamicAnswer {
        let owner = name.lowercased
        let zoneRecords = zoneRecords.filter { $0.subname == .node }
        let wanted: RRType? =
            type == .any ? .txt : ([.a, .aaaa, .txt, .https] as [RRType]).contains(type) ? type : nil
        let records = zoneRecords.filter { $0.type == wanted }.map {
            ResourceRecord(name: owner, type: $0.type, ttl: ttl, rdata: $0.rdata)
        }
        let plain = DynamicAnswer.records(name: owner, records)
        guard let signing else { return plain }
        // The NSEC bitmap's order, as `types(_:at:)`: TXT, then A, AAAA, HTTPS when held.
        let held = Set(zoneRecords.map(\.type))
        return signed(
            plain, owner: owner, signing: signing, records: { records },
            types: { [RRType.txt] + [RRType.a, .aaaa, .https].filter { held.contains($0) } })
    }
}
