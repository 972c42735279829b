/// A node's signed metadata record (docs/design.md#metadata-records-and-signatures).
/// The JSON keys are the wire format shared by the registry, the CLI and onebzd.
///
/// Canonical signed bytes (UTF-8, `\n` = 0x0A, no trailing newline):
/// `"1bz-meta-v1\n" + node_id + "\n" + decimal(seq) + "\n" + join(",", sorted(addresses))`
/// where addresses are all ipv4 and ipv6 entries in canonical text (`inet_ntop`), sorted
/// by their UTF-8 bytes. A valid record already lists canonical, distinct addresses.
/// A record with `services` (docs/registry.md#services) signs one more line:
/// `"\nservices=" + join(",", sorted("proto/port"))`; without the field the bytes are
/// the ones above, so records signed before the field existed keep verifying.
public struct NodeMetadata: Codable, Hashable, Sendable {
    public var nodeID: String
    public var publicKey: String
    public var ipv4: [String]
    public var ipv6: [String]
    public var seq: UInt64
    public var signature: String
    /// The services the node declares; nil (the JSON key absent or null): none.
    public var services: [NodeService]?

    public static let maxAddressesPerFamily = 16

    enum CodingKeys: String, CodingKey {
        case nodeID = "node_id"
        case publicKey = "public_key"
        case ipv4, ipv6, seq, signature, services
    }

    public init(
        nodeID: String, publicKey: String, ipv4: [String], ipv6: [String], seq: UInt64, signature: String,
        services: [NodeService]? = nil
    ) {
        self.services = services
        self.nodeID = nodeID
        self.publicKey = publicKey
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.seq = seq
        self.signature = signature
    }

    /// Signs a record: addresses are normalised and sorted first (invalid ones throw),
    /// services checked and sorted (an empty list means none: the field is left out).
    public static func signed(
        by key: Ed25519PrivateKey, ipv4: [String], ipv6: [String], seq: UInt64, services: [NodeService] = []
    ) throws(RecordError) -> NodeMetadata {
        let v4 = try normalise(ipv4, family: "ipv4", IPAddress.canonicalIPv4)
        let v6 = try normalise(ipv6, family: "ipv6", IPAddress.canonicalIPv6)
        let declared = services.isEmpty ? nil : try NodeService.validated(services)
        let id = key.publicKey.nodeID
        let message = canonicalBytes(nodeID: id.hex, seq: seq, addresses: v4 + v6, services: declared)
        return NodeMetadata(
            nodeID: id.hex, publicKey: key.publicKey.pem, ipv4: v4, ipv6: v6, seq: seq,
            signature: Base64.encode(key.signature(for: message)), services: declared)
    }

    public static func canonicalBytes(
        nodeID: String, seq: UInt64, addresses: [String], services: [NodeService]? = nil
    ) -> [UInt8] {
        let joined = addresses.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.joined(separator: ",")
        var text = "1bz-meta-v1\n\(nodeID)\n\(seq)\n\(joined)"
        if let services {
            let terms = services.map(\.canonicalText).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            text += "\nservices=" + terms.joined(separator: ",")
        }
        return Array(text.utf8)
    }

    /// The bytes the signature covers.
    public var canonicalBytes: [UInt8] {
        Self.canonicalBytes(nodeID: nodeID, seq: seq, addresses: ipv4 + ipv6, services: services)
    }

    /// Checks everything a reader must check before believing the record: node_id format,
    /// canonical Ed25519 SPKI PEM, key hashes to node_id, canonical distinct addresses,
    /// valid signature. Returns the verified view.
    @discardableResult
    public func verify() throws(RecordError) -> VerifiedNodeMetadata {
        guard let id = NodeID(hex: nodeID) else { throw .invalidNodeID }
        // The canonical PEM read in one pass over its bytes (no decode and re-encode);
        // any other text is parsed as before to tell invalid from non-canonical.
        let key: Ed25519PublicKey
        if let canonical = Ed25519PublicKey(canonicalPEM: publicKey) {
            key = canonical
        } else {
            guard let parsed = Ed25519PublicKey(pem: publicKey) else { throw .invalidPublicKey }
            guard parsed.pem == publicKey else { throw .nonCanonicalPublicKey }
            key = parsed
        }
        // publicKey is the key's canonical PEM: its SHA-256 is the key's node id.
        guard NodeID(publicKeyPEM: publicKey.utf8) == id else { throw .keyDoesNotMatchNodeID }
        guard try Self.normalise(ipv4, family: "ipv4", IPAddress.canonicalIPv4) == ipv4.sortedBytes,
            try Self.normalise(ipv6, family: "ipv6", IPAddress.canonicalIPv6) == ipv6.sortedBytes
        else { throw .nonCanonicalAddress }
        if let services { _ = try NodeService.validated(services) }
        guard let sig = Base64.decode(signature), sig.count == 64 else { throw .invalidSignatureEncoding }
        guard key.isValidSignature(sig, for: canonicalBytes) else { throw .badSignature }
        return VerifiedNodeMetadata(record: self, nodeID: id, publicKey: key)
    }

    /// Canonical, sorted, distinct addresses of one family; throws on an invalid one.
    static func normalise(
        _ list: [String], family: String, _ canon: (String) -> String?
    ) throws(RecordError) -> [String] {
        guard list.count <= maxAddressesPerFamily else { throw .tooManyAddresses(family) }
        var out: [String] = []
        for a in list {
            guard let c = canon(a) else { throw .invalidAddress(a) }
            out.append(c)
        }
        out = out.sortedBytes
        guard Set(out).count == out.count else { throw .duplicateAddress }
        return out
    }
}

extension [String] {
    var sortedBytes: [String] { sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
}

/// A record whose signature and identity have been checked.
public struct VerifiedNodeMetadata: Hashable, Sendable {
    public let record: NodeMetadata
    public let nodeID: NodeID
    public let publicKey: Ed25519PublicKey
    public var nodeHash: NodeHash { nodeID.nodeHash }
    public var ipv4: [String] { record.ipv4 }
    public var ipv6: [String] { record.ipv6 }
    public var seq: UInt64 { record.seq }
    /// The declared services, checked (empty: none).
    public var services: [NodeService] { record.services ?? [] }
    /// The HTTPS ports declared, ascending.
    public var httpsPorts: [UInt16] {
        services.filter { $0.proto == "https" }.map { UInt16($0.port) }.sorted()
    }
}

/// Why a signed record, heartbeat or endorsement was rejected.
public enum RecordError: Error, Hashable, CustomStringConvertible {
    case invalidNodeID
    case invalidPublicKey
    case nonCanonicalPublicKey
    case keyDoesNotMatchNodeID
    case invalidAddress(String)
    case nonCanonicalAddress
    case duplicateAddress
    case tooManyAddresses(String)
    /// The `services` field failed a check (the reason).
    case invalidServices(String)
    case invalidSignatureEncoding
    case badSignature

    /// Short machine-readable code (the registry's `error` field).
    public var code: String {
        switch self {
        case .invalidNodeID: "invalid_node_id"
        case .invalidPublicKey, .nonCanonicalPublicKey: "invalid_public_key"
        case .keyDoesNotMatchNodeID: "key_mismatch"
        case .invalidAddress, .nonCanonicalAddress, .duplicateAddress, .tooManyAddresses: "invalid_address"
        case .invalidServices: "invalid_services"
        case .invalidSignatureEncoding, .badSignature: "bad_signature"
        }
    }

    public var description: String {
        switch self {
        case .invalidNodeID: "node_id must be 64 lowercase hex digits"
        case .invalidPublicKey: "public_key is not an Ed25519 SubjectPublicKeyInfo PEM"
        case .nonCanonicalPublicKey:
            "public_key must be the canonical PEM (64-column base64, LF line ends, trailing newline)"
        case .keyDoesNotMatchNodeID: "SHA-256 of public_key does not equal node_id"
        case .invalidAddress(let a): "not a valid address for its family: \(a)"
        case .nonCanonicalAddress: "addresses must be canonical (inet_ntop form) and sorted"
        case .duplicateAddress: "duplicate address"
        case .tooManyAddresses(let f): "more than \(NodeMetadata.maxAddressesPerFamily) \(f) addresses"
        case .invalidServices(let reason): "invalid services: \(reason)"
        case .invalidSignatureEncoding: "signature must be base64 of 64 bytes"
        case .badSignature: "Ed25519 signature does not verify"
        }
    }
}
