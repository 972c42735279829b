import Foundation
import Testing

@testable import NodeRegistry

/// `RegistryJSON` (the registry's JSON without Foundation) against Foundation's: the same
/// bytes written, the same values read, and what the fast reader does not take left to
/// `JSONDecoder` (which decides and words the error).
@Suite struct RegistryJSONTests {
    static let key = Ed25519PrivateKey(seed: Array(repeating: 7, count: 32))

    static var foundation: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    /// Strings a hostile client can put in a record (the record is parsed before it is
    /// verified, and stored and served as parsed).
    static let hostile = [
        "", "plain", "quote\"inside", "back\\slash", "\\\"", "slash/and\\/", "</script>",
        "\u{0}\u{1}\u{7}\u{8}\u{9}\u{A}\u{B}\u{C}\u{D}\u{1B}\u{1F} \u{7F}",
        "é日本語😀", "\u{2028}\u{2029}\u{FEFF}\u{10FFFF}", "e\u{301}", "-----BEGIN PUBLIC KEY-----\nAA==\n",
    ]

    static func record(_ s: String, services: [NodeService]? = [.https(port: 443)]) throws -> NodeMetadata {
        var r = try NodeMetadata.signed(by: key, ipv4: ["192.0.2.1"], ipv6: ["2001:db8::1"], seq: 5)
        r.nodeID = s
        r.publicKey = s + r.publicKey
        r.ipv4 = [s, "192.0.2.1", s]
        r.ipv6 = []
        r.signature = s
        r.seq = UInt64.max
        r.services = services.map { $0 + [NodeService(proto: s, port: 70_000)] }
        return r
    }

    @Test func signedRecordsAndEntriesAreWrittenAsFoundationWritesThem() throws {
        for services in [nil, [NodeService.https(port: 443), .https(port: 8443)]] {
            let r = try NodeMetadata.signed(
                by: Self.key, ipv4: ["192.0.2.1", "198.51.100.7"], ipv6: ["2001:db8::1"], seq: 42,
                services: services ?? [])
            #expect(RegistryJSON.encode(r) == Array(try Self.foundation.encode(r)))
            for last in [nil, Int64(1_700_000_000)] {
                let e = RegistryEntry(
                    record: r, nodeHash: try r.verify().nodeHash, trust: 37, tier: "registered", registered: true,
                    verified: false, stakeWei: "1000000000000000000", updatedAt: 1_700_000_100, lastHeartbeat: last)
                #expect(RegistryJSON.encode(e) == Array(try Self.foundation.encode(e)))
                #expect(try JSONDecoder().decode(RegistryEntry.self, from: Data(RegistryJSON.encode(e))) == e)
            }
        }
    }

    @Test(arguments: hostile)
    func hostileStringsRoundTrip(_ s: String) throws {
        for services in [nil, [NodeService.https(port: 443)]] {
            let r = try Self.record(s, services: services)
            let bytes = RegistryJSON.encode(r)
            #expect(bytes == Array(try Self.foundation.encode(r)), "written as Foundation writes \(s.debugDescription)")
            #expect(try JSONDecoder().decode(NodeMetadata.self, from: Data(bytes)) == r)
            #expect(RegistryJSON.decodeRecord(bytes) == r, "read back by the fast reader")
            #expect(try RegistryRequestBody.record(bytes) == r)
            let entry = RegistryEntry(
                record: r, nodeHash: NodeHash(unchecked: Array(repeating: 0xAB, count: 32)), trust: -1, tier: s,
                registered: false, verified: true, stakeWei: s, updatedAt: Int64.min, lastHeartbeat: Int64.max)
            #expect(RegistryJSON.encode(entry) == Array(try Self.foundation.encode(entry)))
            #expect(try JSONDecoder().decode(RegistryEntry.self, from: Data(RegistryJSON.encode(entry))) == entry)
        }
    }

    /// JSON other writers send (Python's json.dumps escapes non-ASCII and `/` is escaped by
    /// some): read to the value JSONDecoder reads.
    @Test(arguments: [
        #"{"node_id":"a","public_key":"b","ipv4":[],"ipv6":["::1"],"seq":0,"signature":"c"}"#,
        #" { "seq" : 18446744073709551615 , "node_id" : "\u0061\/\"\\\b\f\n\r\t" ,"public_key":"\u00e9\ud83d\ude00","ipv4" : [ "x" , "y" ] ,"ipv6":[],"signature":"s+/=="} "#,
        #"{"\u006eode_id":"a","public_key":"b","ipv4":[],"ipv6":[],"seq":1,"signature":"c","services":null}"#,
        #"{"node_id":"a","public_key":"b","ipv4":[],"ipv6":[],"seq":1,"signature":"c","services":[{"proto":"https","port":443,"x":[1,{"y":null}]}]}"#,
        #"{"extra":{"a":[true,false,null,"\"]}",{}]},"node_id":"a","public_key":"b","ipv4":[],"ipv6":[],"seq":1,"signature":"c"}"#,
    ])
    func otherWritersJSONIsReadAsFoundationReadsIt(_ json: String) throws {
        let fast = try #require(RegistryJSON.decodeRecord(Array(json.utf8)))
        #expect(fast == (try JSONDecoder().decode(NodeMetadata.self, from: Data(json.utf8))))
        #expect(try RegistryRequestBody.record(Array(json.utf8)) == fast)
    }

    /// Lone surrogates (they are no Unicode scalar: no Swift string holds one), raw control
    /// characters, invalid UTF-8, malformed JSON: the fast reader takes none of them, and the
    /// body is refused as `invalid_json`.
    @Test(arguments: [
        #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\ud800x""#, #""\ud83d\ud83d""#, "\"raw\ncontrol\"",
        "\"\u{1}\"", #""bad \x escape""#, #""\u12g4""#, #""unterminated"#, #"7"#, #"null"#, #"["x"]"#,
    ])
    func badStringsAreRefused(_ value: String) throws {
        let json = #"{"node_id":"a","public_key":"#
            + value + #","ipv4":[],"ipv6":[],"seq":1,"signature":"c"}"#
        #expect(RegistryJSON.decodeRecord(Array(json.utf8)) == nil)
        #expect(throws: RegistryBodyError.self) { try RegistryRequestBody.record(Array(json.utf8)) }
    }

    @Test func invalidUTF8IsRefused() throws {
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE6, 0x97]] {
            let json = Array(#"{"node_id":"a","public_key":""#.utf8) + bad
                + Array(#"","ipv4":[],"ipv6":[],"seq":1,"signature":"c"}"#.utf8)
            #expect(RegistryJSON.decodeRecord(json) == nil)
            #expect(throws: RegistryBodyError.self) { try RegistryRequestBody.record(json) }
        }
    }

    /// What the fast reader leaves to JSONDecoder, which still reads it as before.
    @Test(arguments: [
        #"{"node_id":"a","public_key":"b","ipv4":[],"ipv6":[],"seq":1,"signature":"c","node_id":"z"}"#,
        #"{"node_id":"a","public_key":"b","ipv4":[],"ipv6":[],"seq":1,"signature":"c","n":-1.5e3}"#,
        #"{"node_id":"a","public_key":"b","ipv4":[],"ipv6":[],"seq":1,"signature":"c","services":[{"proto":"x","port":-7}]}"#,
    ])
    func unusualJSONIsLeftToFoundation(_ json: String) throws {
        #expect(RegistryJSON.decodeRecord(Array(json.utf8)) == nil)
        let r = try RegistryRequestBody.record(Array(json.utf8))
        #expect(r == (try JSONDecoder().decode(NodeMetadata.self, from: Data(json.utf8))))
    }

    @Test func missingOrMistypedFieldsKeepFoundationsError() throws {
        let json = #"{"node_id":"a","public_key":"b","ipv4":[],"ipv6":[],"signature":"c"}"#
        #expect(RegistryJSON.decodeRecord(Array(json.utf8)) == nil)
        #expect(throws: RegistryBodyError(detail: "body is not a valid NodeMetadata JSON object: missing key seq")) {
            try RegistryRequestBody.record(Array(json.utf8))
        }
    }

    @Test func heartbeatsAreReadAsFoundationReadsThem() throws {
        let hb = Heartbeat.signed(by: Self.key, timestamp: 1_700_000_000)
        let bytes = Array(try JSONEncoder().encode(hb))
        #expect(RegistryJSON.decodeHeartbeat(bytes) == hb)
        #expect(try RegistryRequestBody.heartbeat(bytes) == hb)
        // A negative number is left to JSONDecoder (the fast reader takes digits only).
        let negative = Array(#"{"node_id":"a","timestamp":-5,"signature":"c"}"#.utf8)
        #expect(RegistryJSON.decodeHeartbeat(negative) == nil)
        #expect(try RegistryRequestBody.heartbeat(negative).timestamp == -5)
    }
}

/// The base64 and PEM readers without Foundation agree with Foundation's where both read.
@Suite struct CanonicalBase64Tests {
    @Test func encodesAndDecodesAsFoundation() {
        var generator = SystemRandomNumberGenerator()
        for n in 0..<70 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = Base64.encode(bytes)
            #expect(text == Data(bytes).base64EncodedString())
            #expect(Base64.decodeCanonical(Array(text.utf8)) == bytes)
            #expect(Base64.decode(text) == bytes)
        }
    }

    /// Only the one text `encode` writes is canonical; others go to Foundation's decoder.
    @Test(arguments: ["AB==", "AAB=", "A===", "AA=A", "AA", "AA==AA==", "AA AA", "AA\nAA", "AA-_"])
    func nonCanonicalTextIsLeftToFoundation(_ text: String) {
        #expect(Base64.decodeCanonical(Array(text.utf8)) == nil)
        #expect(Base64.decode(text) == Data(base64Encoded: text).map { Array($0) })
    }

    @Test func nodeIDsAreExactly64LowercaseHexDigits() {
        let id = Ed25519PrivateKey(seed: Array(repeating: 3, count: 32)).publicKey.nodeID
        #expect(NodeID(hex: id.hex) == id)
        #expect(NodeID(hex: Substring(id.hex)) == id)
        for bad in [
            id.hex.uppercased(), String(id.hex.dropLast()), id.hex + "0", "0x" + id.hex.dropFirst(2), "",
            String(id.hex.dropLast()) + "g", String(id.hex.dropLast()) + "é",
        ] {
            #expect(NodeID(hex: bad) == nil, "\(bad)")
        }
    }

    @Test func canonicalPEMOnly() {
        let key = Ed25519PrivateKey(seed: Array(repeating: 3, count: 32)).publicKey
        #expect(Ed25519PublicKey(canonicalPEM: key.pem) == key)
        for variant in [
            key.pem.replacingOccurrences(of: "\n", with: "\r\n"), String(key.pem.dropLast()), " " + key.pem,
            key.pem.replacingOccurrences(of: "PUBLIC KEY", with: "PRIVATE KEY"),
        ] {
            #expect(Ed25519PublicKey(canonicalPEM: variant) == nil)
        }
    }
}
