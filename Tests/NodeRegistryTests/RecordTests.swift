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

/// The `services` field (docs/registry.md#services): signed when present, the v1 bytes
/// unchanged when absent, every value checked.
@Suite struct ServiceFieldTests {
    static let key = RecordTests.key

    @Test func recordsWithoutServicesSignTheOldBytes() throws {
        let record = try RecordTests.good()
        #expect(record.services == nil)
        #expect(record.canonicalBytes == NodeMetadata.canonicalBytes(nodeID: record.nodeID, seq: 5, addresses: ["192.0.2.1", "2001:db8::1"]))
        let json = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        #expect(!json.contains("services"), "absent, not null or []")
    }

    @Test func servicesAreSignedInCanonicalOrder() throws {
        let record = try NodeMetadata.signed(
            by: Self.key, ipv4: [], ipv6: [], seq: 9, services: [.https(port: 8443), .https(port: 443)])
        let text = String(decoding: record.canonicalBytes, as: UTF8.self)
        #expect(text == "1bz-meta-v1\n\(record.nodeID)\n9\n\nservices=https/443,https/8443")
        let verified = try record.verify()
        #expect(verified.httpsPorts == [443, 8443])
        // The JSON round trip (any order in the array) keeps it valid.
        var reordered = record
        reordered.services = [.https(port: 443), .https(port: 8443)].reversed()
        try reordered.verify()
        let back = try JSONDecoder().decode(NodeMetadata.self, from: JSONEncoder().encode(record))
        #expect(back == record)
        try back.verify()
    }

    @Test func aRegistryCannotAddChangeOrDropServices() throws {
        let record = try NodeMetadata.signed(by: Self.key, ipv4: ["192.0.2.1"], ipv6: [], seq: 9, services: [.https(port: 443)])
        var dropped = record
        dropped.services = nil
        #expect(throws: RecordError.badSignature) { try dropped.verify() }
        var changed = record
        changed.services = [.https(port: 8443)]
        #expect(throws: RecordError.badSignature) { try changed.verify() }
        var added = try RecordTests.good()
        added.services = [.https(port: 443)]
        #expect(throws: RecordError.badSignature) { try added.verify() }
    }

    @Test(arguments: [
        (#"[]"#, "at least one"),
        (#"[{"proto":"http","port":80}]"#, "unknown proto"),
        (#"[{"proto":"HTTPS","port":443}]"#, "unknown proto"),
        (#"[{"proto":"https","port":0}]"#, "not in 1-65535"),
        (#"[{"proto":"https","port":65536}]"#, "not in 1-65535"),
        (#"[{"proto":"https","port":-443}]"#, "not in 1-65535"),
        (#"[{"proto":"https","port":443},{"proto":"https","port":443}]"#, "duplicate"),
        ("[" + (1...9).map { #"{"proto":"https","port":\#($0)}"# }.joined(separator: ",") + "]", "more than 8"),
    ])
    func badServicesMakeTheRecordInvalid(services: String, reason: String) throws {
        var json = String(decoding: try JSONEncoder().encode(try RecordTests.good()), as: UTF8.self)
        json.removeLast()
        json += #","services":\#(services)}"#
        let record = try JSONDecoder().decode(NodeMetadata.self, from: Data(json.utf8))
        do {
            try record.verify()
            Issue.record("accepted services \(services)")
        } catch {
            #expect(error.code == "invalid_services")
            #expect(error.description.contains(reason), "\(error.description)")
        }
    }

    @Test(arguments: [#""services":{"proto":"https"}"#, #""services":[{"proto":"https","port":"443"}]"#, #""services":[{"port":443}]"#])
    func malformedServicesDoNotDecode(fragment: String) throws {
        var json = String(decoding: try JSONEncoder().encode(try RecordTests.good()), as: UTF8.self)
        json.removeLast()
        json += ",\(fragment)}"
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(NodeMetadata.self, from: Data(json.utf8)) }
    }
}
