/// One registered node vouching for another (`POST /v1/endorse`).
/// Signed by the endorser over
/// `"1bz-endorse-v1\n" + endorser + "\n" + node_id + "\n" + decimal(timestamp)`.
public struct Endorsement: Codable, Hashable, Sendable {
    /// The endorsed node.
    public var nodeID: String
    /// The endorsing node (its key signs).
    public var endorser: String
    public var timestamp: Int64
    public var signature: String

    enum CodingKeys: String, CodingKey {
        case nodeID = "node_id"
        case endorser, timestamp, signature
    }

    public init(nodeID: String, endorser: String, timestamp: Int64, signature: String) {
        self.nodeID = nodeID
        self.endorser = endorser
        self.timestamp = timestamp
        self.signature = signature
    }

    public static func signed(by key: Ed25519PrivateKey, endorsing nodeID: NodeID, timestamp: Int64) -> Endorsement {
        let me = key.publicKey.nodeID.hex
        let sig = key.signature(for: canonicalBytes(endorser: me, nodeID: nodeID.hex, timestamp: timestamp))
        return Endorsement(nodeID: nodeID.hex, endorser: me, timestamp: timestamp, signature: Base64.encode(sig))
    }

    public static func canonicalBytes(endorser: String, nodeID: String, timestamp: Int64) -> [UInt8] {
        Array("1bz-endorse-v1\n\(endorser)\n\(nodeID)\n\(timestamp)".utf8)
    }

    /// Checks the signature against the endorser's known key.
    public func verify(endorserKey key: Ed25519PublicKey) throws(RecordError) {
        guard NodeID(hex: endorser) == key.nodeID, NodeID(hex: nodeID) != nil else { throw .keyDoesNotMatchNodeID }
        guard let sig = Base64.decode(signature), sig.count == 64 else { throw .invalidSignatureEncoding }
        let message = Self.canonicalBytes(endorser: endorser, nodeID: nodeID, timestamp: timestamp)
        guard key.isValidSignature(sig, for: message) else { throw .badSignature }
    }
}
