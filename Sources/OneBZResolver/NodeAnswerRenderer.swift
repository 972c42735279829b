import ChainReader
import DNSEngine
import DNSSEC
import DNSWire
import NodeRegistry

/// Renders what a node name answers (docs/design.md#what-a-node-name-answers) into
/// pre-rendered DNS answers. Negative answers are only named (`.noData`, `.nameError`):
/// the engine renders them with the SOA of the zone it serves.
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

    /// What signing a dynamic answer needs: the zone's signer, the wall-clock time of
    /// signing and the TTL of denial NSECs (the zone's negative TTL).
    package struct Signing: Sendable {
        package let signer: ZoneSigner
        package let now: UInt32
        package let negativeTTL: UInt32

        package init(signer: ZoneSigner, now: UInt32, negativeTTL: UInt32) {
            self.signer = signer
            self.now = now
            self.negativeTTL = negativeTTL
        }
    }

    /// The answer as `answer(_:name:type:ttl:)` gives it and, with `signing`, its DO=1
    /// form made now: the records with their RRSIGs, or the name's compact denial
    /// (RFC 9824: NODATA listing the types the name has; NXNAME for no name). A
    /// signing failure is SERVFAIL (never unsigned data for a DO=1 query).
    package static func answer(
        _ outcome: NodeLookupOutcome, name: Name, type: RRType, ttl: UInt32, signing: Signing?
    ) -> DynamicAnswer {
        let plain = answer(outcome, name: name, type: type, ttl: ttl)
        guard let signing else { return plain }
        let signer = signing.signer
        let timing = signer.dynamicTiming
        let owner = name.lowercased
        do {
            switch plain {
            case .records(let template):
                guard case .found(let facts) = outcome else { return .serverFailure }
                let records = Self.records(facts, owner: owner, type: type, ttl: ttl)
                let signed = try signer.signingEach(records, now: signing.now, timing: timing)
                return .signedRecords(
                    template, signed: ResponseTemplate(authoritative: true, questionName: owner, answers: signed))
            case .noData:
                guard case .found(let facts) = outcome else { return .serverFailure }
                let records = try signer.denialRecords(
                    owner: owner, types: Self.types(facts), ttl: signing.negativeTTL, now: signing.now, timing: timing)
                return .signedNoData(SignedDenial(records: records))
            case .nameError:
                let records = try signer.denialRecords(
                    owner: owner, types: nil, ttl: signing.negativeTTL, now: signing.now, timing: timing)
                return .signedNameError(SignedDenial(records: records))
            default:
                return plain
            }
        } catch {
            return .serverFailure
        }
    }

    /// The types a node name holds (its NSEC bitmap): TXT always, A and AAAA when its
    /// verified metadata has such addresses.
    package static func types(_ facts: NodeFacts) -> [RRType] {
        var types: [RRType] = [.txt]
        if !addressRecords(facts, owner: .root, ttl: 0, type: .a).isEmpty { types.append(.a) }
        if !addressRecords(facts, owner: .root, ttl: 0, type: .aaaa).isEmpty { types.append(.aaaa) }
        return types
    }

    /// Every record a node name answers (A, AAAA, TXT, in that order): what the
    /// materialised zone holds for it, identical to the per-type answers above.
    package static func zoneRecords(_ facts: NodeFacts, owner: Name, ttl: UInt32) -> [ResourceRecord] {
        let owner = owner.lowercased
        return addressRecords(facts, owner: owner, ttl: ttl, type: .a)
            + addressRecords(facts, owner: owner, ttl: ttl, type: .aaaa) + txtRecords(facts, owner: owner, ttl: ttl)
    }

    private static func records(_ facts: NodeFacts, owner: Name, type: RRType, ttl: UInt32) -> [ResourceRecord] {
        switch type {
        case .a: addressRecords(facts, owner: owner, ttl: ttl, type: .a)
        case .aaaa: addressRecords(facts, owner: owner, ttl: ttl, type: .aaaa)
        case .txt, .any: txtRecords(facts, owner: owner, ttl: ttl)
        default: []
        }
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
