import Foundation
import Testing

@testable import NodeRegistry

@Suite struct FormatTests {
    static let vectors = Vectors.shared.vectors

    @Test(arguments: vectors.indices)
    func keyAndIdentityMatchPython(_ i: Int) throws {
        let v = Self.vectors[i]
        let key = try Ed25519PrivateKey(pem: v.private_pem)
        #expect(key.pem == v.private_pem)
        #expect(key.publicKey.pem == v.public_pem)
        #expect(key.publicKey.base64 == v.public_raw_base64)
        let id = NodeID(publicKeyPEM: Array(v.public_pem.utf8))
        #expect(id.hex == v.node_id)
        #expect(key.publicKey.nodeID == id)
        #expect(id.dnsName == v.dns_name)
        #expect(NodeID(dnsName: v.dns_name) == id)
        #expect(NodeID(dnsName: v.dns_name.uppercased() + ".") == id)
        #expect(NodeID(hex: v.node_id) == id)
        // pk=ed25519:<base64> from DNS TXT is enough to recompute node_id.
        let fromTXT = try #require(Ed25519PublicKey(base64: v.public_raw_base64))
        #expect(fromTXT.pem == v.public_pem)
        #expect(fromTXT.nodeID == id)
    }

    @Test(arguments: vectors.indices)
    func nodeHashMatchesPythonKeccak(_ i: Int) throws {
        let v = Self.vectors[i]
        #expect(try #require(NodeID(hex: v.node_id)).nodeHash.hex == v.node_hash)
        #expect(NodeHash(hex: v.node_hash)?.hex == v.node_hash)
    }

    @Test(arguments: vectors.indices)
    func pythonSignedRecordVerifiesInSwift(_ i: Int) throws {
        let v = Self.vectors[i]
        let r = v.record
        let record = NodeMetadata(
            nodeID: r.node_id, publicKey: r.public_key, ipv4: r.ipv4, ipv6: r.ipv6, seq: r.seq, signature: r.signature)
        #expect(Data(record.canonicalBytes).base64EncodedString() == v.canonical_bytes_base64)
        let verified = try record.verify()
        #expect(verified.nodeID.hex == v.node_id)
        // Ed25519 is deterministic: Swift signing the same content gives Python's signature.
        let key = try Ed25519PrivateKey(pem: v.private_pem)
        let mine = try NodeMetadata.signed(by: key, ipv4: r.ipv4, ipv6: r.ipv6, seq: r.seq)
        #expect(mine.signature == r.signature)
        let hb = Heartbeat(nodeID: v.heartbeat.node_id, timestamp: v.heartbeat.timestamp, signature: v.heartbeat.signature)
        try hb.verify(with: key.publicKey)
        #expect(Heartbeat.signed(by: key, timestamp: hb.timestamp) == hb)
    }

    @Test func encryptedKeySaysHowToDecrypt() {
        #expect(throws: KeyError.encrypted) { try Ed25519PrivateKey(pem: Vectors.shared.encrypted_private_pem) }
        #expect(KeyError.encrypted.description.contains("openssl pkey -in KEY -out plain.pem"))
        #expect(throws: KeyError.notPKCS8PEM) { try Ed25519PrivateKey(pem: Self.vectors[0].public_pem) }
    }
}

import TestSupport
