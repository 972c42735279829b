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
    /// `ttl` on the positive records. `subname`: which name at or below the node name
    /// `name` is (`_443._tcp.shashi.1bz` is `.port(443)`); such a name exists only while
    /// the node's verified record declares the service.
    package static func answer(
        _ outcome: NodeLookupOutcome, name: Name, subname: NodeSubname = .node, type: RRType, ttl: UInt32
    ) -> DynamicAnswer {
        guard case .found(let facts) = outcome, exists(facts, subname) else { return .nameError }
        let owner = name.lowercased
        return .records(name: owner, records(facts, owner: owner, subname: subname, type: type, ttl: ttl))
    }

    /// Whether `subname` of a registered node exists: the node name always; `_tcp` (an
    /// empty non-terminal) and `_PORT._tcp` while an https service is declared.
    package static func exists(_ facts: NodeFacts, _ subname: NodeSubname) -> Bool {
        if subname == .node { return true }
        let ports = facts.verifiedMetadata?.httpsPorts ?? []
        if let port = subname.port { return ports.contains(port) }
        return !ports.isEmpty
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
        _ outcome: NodeLookupOutcome, name: Name, subname: NodeSubname = .node, type: RRType, ttl: UInt32,
        signing: Signing?
    ) -> DynamicAnswer {
        let plain = answer(outcome, name: name, subname: subname, type: type, ttl: ttl)
        guard let signing else { return plain }
        let owner = name.lowercased
        guard case .found(let facts) = outcome else {
            return signed(plain, owner: owner, signing: signing, records: { nil }, types: { nil })
        }
        return signed(
            plain, owner: owner, signing: signing,
            records: { Self.records(facts, owner: owner, subname: subname, type: type, ttl: ttl) },
            types: { Self.types(facts, at: subname) })
    }

    /// `plain` in its DO=1 form, made now: `records()` (what `plain` answers) with their
    /// RRSIGs, a NODATA's compact denial listing `types()`, NXNAME's denial. Nil from
    /// either, or a signing failure, is SERVFAIL (never unsigned data for a DO=1 query).
    /// The one signing switch of both renderers (from facts, and from a restored zone's
    /// records in NodeAnswerRenderer+Zone).
    static func signed(
        _ plain: DynamicAnswer, owner: Name, signing: Signing, records: () -> [ResourceRecord]?,
        types: () -> [RRType]?
    ) -> DynamicAnswer {
        let signer = signing.signer
        let timing = signer.dynamicTiming
        do {
            switch plain {
            case .records(let template):
                guard let records = records() else { return .serverFailure }
                let signed = try signer.signingEach(records, now: signing.now, timing: timing, place: .dynamic)
                return .signedRecords(
                    template, signed: ResponseTemplate(authoritative: true, questionName: owner, answers: signed))
            case .noData:
                guard let types = types() else { return .serverFailure }
                let records = try signer.denialRecords(
                    owner: owner, types: types, ttl: signing.negativeTTL, now: signing.now, timing: timing, place: .dynamic)
                return .signedNoData(SignedDenial(records: records))
            case .nameError:
                let records = try signer.denialRecords(
                    owner: owner, types: nil, ttl: signing.negativeTTL, now: signing.now, timing: timing, place: .dynamic)
                return .signedNameError(SignedDenial(records: records))
            default:
                return plain
            }
        } catch {
            return .serverFailure
        }
    }

    /// The types a name of a node holds (its NSEC bitmap). The node name: TXT always,
    /// A and AAAA when its verified metadata has such addresses, HTTPS when it declares
    /// an https service; `_PORT._tcp`: TLSA; `_tcp`: none (an empty non-terminal).
    package static func types(_ facts: NodeFacts, at subname: NodeSubname = .node) -> [RRType] {
        if subname.port != nil { return [.tlsa] }
        guard subname == .node else { return [] }
        var types: [RRType] = [.txt]
        if !addressRecords(facts, owner: .root, ttl: 0, type: .a).isEmpty { types.append(.a) }
        if !addressRecords(facts, owner: .root, ttl: 0, type: .aaaa).isEmpty { types.append(.aaaa) }
        if !(facts.verifiedMetadata?.httpsPorts.isEmpty ?? true) { types.append(.https) }
        return types
    }

    /// Every record of a node (A, AAAA, TXT, HTTPS at `owner`, then TLSA at each
    /// `_PORT._tcp.owner`): what the materialised zone holds for it, identical to the
    /// per-type answers above.
    package static func zoneRecords(_ facts: NodeFacts, owner: Name, ttl: UInt32) -> [ResourceRecord] {
        let owner = owner.lowercased
        var records =
            addressRecords(facts, owner: owner, ttl: ttl, type: .a)
            + addressRecords(facts, owner: owner, ttl: ttl, type: .aaaa) + txtRecords(facts, owner: owner, ttl: ttl)
            + httpsRecords(facts, owner: owner, ttl: ttl)
        for port in facts.verifiedMetadata?.httpsPorts ?? [] {
            guard let serviceOwner = try? Name(NodeSubname.port(port).prefix + owner.description) else { continue }
            records += tlsaRecords(facts, owner: serviceOwner, ttl: ttl)
        }
        return records
    }

    private static func records(
        _ facts: NodeFacts, owner: Name, subname: NodeSubname, type: RRType, ttl: UInt32
    ) -> [ResourceRecord] {
        if subname.port != nil {
            return type == .tlsa || type == .any ? tlsaRecords(facts, owner: owner, ttl: ttl) : []
        }
        guard subname == .node else { return [] }
        switch type {
        case .a: return addressRecords(facts, owner: owner, ttl: ttl, type: .a)
        case .aaaa: return addressRecords(facts, owner: owner, ttl: ttl, type: .aaaa)
        // RFC 8482 4.1: answer ANY with one RRset; TXT always exists for a node.
        case .txt, .any: return txtRecords(facts, owner: owner, ttl: ttl)
        case .https: return httpsRecords(facts, owner: owner, ttl: ttl)
        default: return []
        }
    }

    /// `TLSA 3 1 1 <SHA-256 of the node's SubjectPublicKeyInfo>` (RFC 6698 2.1, RFC 7671
    /// 5.1: DANE-EE, so the certificate's key is all that is matched; no CA, no names,
    /// no dates). The same record for every port the node declares.
    private static func tlsaRecords(_ facts: NodeFacts, owner: Name, ttl: UInt32) -> [ResourceRecord] {
        guard let metadata = facts.verifiedMetadata else { return [] }
        return [ResourceRecord(name: owner, type: .tlsa, ttl: ttl, rdata: [3, 1, 1] + metadata.publicKey.spkiSHA256)]
    }

    /// One HTTPS record per declared https port (RFC 9460 9.1), priorities 1, 2, ... in
    /// ascending port order: `1 . alpn=h2,http/1.1 [port=P] [ipv4hint=...] [ipv6hint=...]`,
    /// the port left out when 443 (the default), hints from the node's verified addresses.
    private static func httpsRecords(_ facts: NodeFacts, owner: Name, ttl: UInt32) -> [ResourceRecord] {
        guard let metadata = facts.verifiedMetadata else { return [] }
        let v4 = metadata.ipv4.compactMap { IPAddress.bytes(ipv4: $0) }
        let v6 = metadata.ipv6.compactMap { IPAddress.bytes(ipv6: $0) }
        return metadata.httpsPorts.enumerated().compactMap { index, port in
            var params = [alpn]
            if port != 443 { params.append(.port(port)) }
            if !v4.isEmpty { params.append(.ipv4hint(v4)) }
            if !v6.isEmpty { params.append(.ipv6hint(v6)) }
            let svcb = SVCBRDATA(priority: UInt16(index + 1), target: .root, params: params)
            // Cannot fail: checked ports and addresses, a bounded count of each.
            guard let rdata = try? svcb.encoded() else { return nil }
            return ResourceRecord(name: owner, type: .https, ttl: ttl, rdata: rdata)
        }
    }

    /// `alpn=h2,http/1.1`: what a web server presenting the node's certificate speaks.
    private static let alpn = try! SVCBRDATA.SvcParam.alpn(["h2", "http/1.1"])

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
