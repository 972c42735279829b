/// A signed liveness proof (`POST /v1/verify`, the seed's `POST /verify`).
/// Signed bytes: `"1bz-heartbeat-v1\n" + node_id + "\n" + decimal(timestamp)` where
/// timestamp is Unix seconds.
public struct Heartbeat: Codable, Hashable, Sendable {
    public var nodeID: String
    public var timestamp: Int64
    public var signature: String

    enum CodingKeys: String, CodingKey {
        case nodeID = "node_id"
        case timestamp, signature
    }

    public init(nodeID: String, timestamp: Int64, signature: String) {
        self.nodeID = nodeID
        self.timestamp = timestamp
        self.signature = signature
    }

    public static func signed(by key: Ed25519PrivateKey, timestamp: Int64) -> Heartbeat {
        let id = key.publicKey.nodeID.hex
        let sig = key.signature(for: canonicalBytes(nodeID: id, timestamp: timestamp))
        return Heartbeat(nodeID: id, timestamp: timestamp, signature: Base64.encode(sig))
    }

    public static func canonicalBytes(nodeID: String, timestamp: Int64) -> [UInt8] {
        Array("1bz-heartbeat-v1\n\(nodeID)\n\(timestamp)".utf8)
    }

    /// Checks that `key` is the node's (its id is the SHA-256 of the key's PEM) and the
    /// signature against it.
    public func verify(with key: Ed25519PublicKey) throws(RecordError) {
        guard NodeID(hex: nodeID) == key.nodeID else { throw .keyDoesNotMatchNodeID }
        try verifySignature(withKeyOfNode: key)
    }

    /// Checks the signature against `key`, which the caller already knows to be the key of
    /// `nodeID` (the registry keeps records under their key's id): the id is not derived
    /// again (a PEM encoding and a SHA-256 per heartbeat).
    public func verifySignature(withKeyOfNode key: Ed25519PublicKey) throws(RecordError) {
        guard let sig = Base64.decode(signature), sig.count == 64 else { throw .invalidSignatureEncoding }
        guard key.isValidSignature(sig, for: Self.canonicalBytes(nodeID: nodeID, timestamp: timestamp))
        else { throw .badSignature }
    }
}
