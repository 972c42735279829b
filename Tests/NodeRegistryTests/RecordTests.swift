import Foundation
import Testing

@testable import NodeRegistry

@Suite struct RecordTests {
    static let key = Ed25519PrivateKey(seed: Array(repeating: 7, count: 32))
    static let other = Ed25519PrivateKey(seed: Array(repeating: 9, count: 32))

    static func good() throws -> NodeMetadata {
        try NodeMetadata.signed(by: key, ipv4: ["192.0.2.1"], ipv6: ["2001:db8::1"], seq: 5)
    }

    @Test func goodRecordVerifies() throws {
        let v = try Self.good().verify()
        #expect(v.nodeID == Self.key.publicKey.nodeID)
        #expect(v.seq == 5)
    }

    @Test(arguments: [
        "wrongKey", "tamperedAddress", "tamperedSeq", "nonCanonicalPEM", "badNodeID", "shortSignature",
        "nonCanonicalAddress", "duplicateAddress", "ipv6InIPv4",
    ])
    func tamperedRecordsAreRejected(_ how: String) throws {
        var r = try Self.good()
        var expected: RecordError
        switch how {
        case "wrongKey":
            r.publicKey = Self.other.publicKey.pem
            expected = .keyDoesNotMatchNodeID
        case "tamperedAddress":
            r.ipv4 = ["192.0.2.2"]
            expected = .badSignature
        case "tamperedSeq":
            r.seq = 6
            expected = .badSignature
        case "nonCanonicalPEM":
            r.publicKey = r.publicKey.replacingOccurrences(of: "\n", with: "\r\n")
            expected = .nonCanonicalPublicKey
        case "badNodeID":
            r.nodeID = r.nodeID.uppercased()
            expected = .invalidNodeID
        case "shortSignature":
            r.signature = "AAAA"
            expected = .invalidSignatureEncoding
        case "nonCanonicalAddress":
            r.ipv6 = ["2001:DB8::1"]
            expected = .nonCanonicalAddress
        case "duplicateAddress":
            r.ipv4 = ["192.0.2.1", "192.0.2.1"]
            expected = .duplicateAddress
        default:
            r.ipv4 = ["2001:db8::2"]
            expected = .invalidAddress("2001:db8::2")
        }
        #expect(throws: expected) { try r.verify() }
    }

    @Test func signingNormalisesAndRejectsBadAddresses() throws {
        let r = try NodeMetadata.signed(by: Self.key, ipv4: ["10.0.0.2", "10.0.0.10"], ipv6: ["::FFFF:1.2.3.4"], seq: 1)
        #expect(r.ipv4 == ["10.0.0.10", "10.0.0.2"])
        #expect(r.ipv6 == ["::ffff:1.2.3.4"])
        #expect(throws: RecordError.invalidAddress("300.1.1.1")) {
            try NodeMetadata.signed(by: Self.key, ipv4: ["300.1.1.1"], ipv6: [], seq: 1)
        }
        #expect(throws: RecordError.self) {
            try NodeMetadata.signed(by: Self.key, ipv4: [], ipv6: ["fe80::1%eth0"], seq: 1)
        }
    }

    @Test func canonicalBytesAreExact() throws {
        let bytes = NodeMetadata.canonicalBytes(nodeID: "ab", seq: 18_446_744_073_709_551_615, addresses: ["b", "a", "::1"])
        #expect(String(decoding: bytes, as: UTF8.self) == "1bz-meta-v1\nab\n18446744073709551615\n::1,a,b")
    }

    @Test func recordJSONRoundTripsWithLargeSeq() throws {
        let r = try NodeMetadata.signed(by: Self.key, ipv4: [], ipv6: [], seq: UInt64.max)
        let back = try JSONDecoder().decode(NodeMetadata.self, from: JSONEncoder().encode(r))
        #expect(back == r)
        try back.verify()
    }

    @Test func heartbeatAndEndorsementSignatures() throws {
        let hb = Heartbeat.signed(by: Self.key, timestamp: 1000)
        try hb.verify(with: Self.key.publicKey)
        #expect(throws: RecordError.keyDoesNotMatchNodeID) { try hb.verify(with: Self.other.publicKey) }
        var late = hb
        late.timestamp = 1001
        #expect(throws: RecordError.badSignature) { try late.verify(with: Self.key.publicKey) }

        let e = Endorsement.signed(by: Self.other, endorsing: Self.key.publicKey.nodeID, timestamp: 5)
        try e.verify(endorserKey: Self.other.publicKey)
        var forged = e
        forged.nodeID = Self.other.publicKey.nodeID.hex
        #expect(throws: RecordError.badSignature) { try forged.verify(endorserKey: Self.other.publicKey) }
    }
}
