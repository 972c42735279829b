import ChainReader
import DNSEngine
import DNSWire
import NodeRegistry

/// Renders what a node name answers (DESIGN.md, What a node name answers) into
/// pre-rendered DNS answers. Negative answers are only named (`.noData`,
/// `.nameError`): the engine renders them with the SOA of the zone it serves.
package enum NodeAnswerRenderer {
    /// The answer for `type` at `name` (the query name; rendered in lowercase), with
    /// `ttl` on the positive records.
    package static func answer(_ outcome: NodeLookupOutcome, name: Name, type: RRType, ttl: UInt32) -> DynamicAnswer {
        guard case .found(let facts) = outcome else { return .nameError }
        let owner = name.lowercased
        let records: [ResourceRecord]
        switch type {
        case .a: records = Self.addressRecords(facts, owner: owner, ttl: ttl, type: .a)
        case .aaaa: records = Self.addressRecords(facts, owner: owner, ttl: ttl, type: .aaaa)
        // RFC 8482 4.1: answer ANY with one RRset; TXT always exists for a node.
        case .txt, .any: records = Self.txtRecords(facts, owner: owner, ttl: ttl)
        default: records = []
        }
        return .records(name: owner, records)
    }

    /// One TXT RR per attribute, RFC 1464 style `key=value`.
    package static func txtStrings(_ facts: NodeFacts) -> [String] {
        var out: [String] = []
        if let id = facts.nodeID { out.append("node=\(id.hex)") }
        if let metadata = facts.verifiedMetadata { out.append("pk=ed25519:\(metadata.publicKey.base64)") }
        if let trust = facts.trust { out.append("trust=\(trust)") }
        out.append("verified=\(facts.node.verified ? "yes" : "no")")
        out.append("wallet=\(facts.node.wallet.hex)")
        return out
    }

    private static func txtRecords(_ facts: NodeFacts, owner: Name, ttl: UInt32) -> [ResourceRecord] {
        txtStrings(facts).map {
            ResourceRecord(name: owner, type: .txt, ttl: ttl, rdata: QueryEngine.txtRDATA($0))
        }
    }

    /// Addresses only from verified metadata: a record that failed a check adds nothing.
    private static func addressRecords(_ facts: NodeFacts, owner: Name, ttl: UInt32, type: RRType) -> [ResourceRecord] {
        guard let metadata = facts.verifiedMetadata else { return [] }
        let rdatas: [[UInt8]] =
            type == .a
            ? metadata.ipv4.compactMap { IPAddress.bytes(ipv4: $0) }
            : metadata.ipv6.compactMap { IPAddress.bytes(ipv6: $0) }
        return rdatas.map { ResourceRecord(name: owner, type: type, ttl: ttl, rdata: $0) }
    }
}
