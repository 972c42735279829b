import DNSWire
import Foundation
import Testing

@testable import DNSSEC

/// Key tags, DS digests and signatures against the published test vectors of
/// RFC 6605 (ECDSA P-256) and RFC 8080 (Ed25519), read from BIND-format key files.
@Suite struct DNSSECVectorTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let zone: String
        let privateFile: String
        let publicFile: String
        let tag: UInt16
        let ds: String
        var testDescription: String { zone }
    }

    static let vectors = [
        // RFC 6605 6.1
        Vector(
            zone: "example.net.",
            privateFile: """
                Private-key-format: v1.2
                Algorithm: 13 (ECDSAP256SHA256)
                PrivateKey: GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=
                """,
            publicFile: """
                ; a comment line
                example.net. 3600 IN DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edb krSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==
                """,
            tag: 55648, ds: "example.net. 3600 IN DS 55648 13 2 B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17"),
        // RFC 8080 6.1
        Vector(
            zone: "example.com.",
            privateFile: """
                Private-key-format: v1.2
                Algorithm: 15 (ED25519)
                PrivateKey: ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=
                """,
            publicFile: "example.com.\tIN\tDNSKEY\t257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4= ;{id = 3613 (ksk), size = 256b}\n",
            tag: 3613, ds: "example.com. 3600 IN DS 3613 15 2 3AA5AB37EFCE57F737FC1627013FEE07BDF241BD10F3B1964AB55C78E79A304B"),
    ]

    private func write(_ vector: Vector) throws -> String {
        let dir = NSTemporaryDirectory() + "dnssec-vectors-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let base = "\(dir)/K\(vector.zone)+0\(vector.privateFile.contains("ED25519") ? 15 : 13)+\(vector.tag)"
        try vector.privateFile.write(toFile: base + ".private", atomically: true, encoding: .utf8)
        try vector.publicFile.write(toFile: base + ".key", atomically: true, encoding: .utf8)
        return dir
    }

    @Test(arguments: vectors)
    func keyTagAndDS(_ vector: Vector) throws {
        let dir = try write(vector)
        let files = try BINDKeyFile.load(directory: dir, zone: try Name(vector.zone))
        let file = try #require(files.first)
        #expect(file.key.keyTag == vector.tag)
        #expect(DSDigest.presentation(owner: try Name(vector.zone), key: file.key) == vector.ds)
    }

    @Test func ed25519SignatureMatchesRFC8080() throws {
        // RFC 8080 6.1: Ed25519 is deterministic, so the signature is reproducible.
        let key = try SigningKey(
            algorithm: .ed25519, flags: 257,
            privateKey: Array(Data(base64Encoded: "ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=")!))
        let zone = try Name("example.com.")
        let mx = ResourceRecord(name: zone, type: .mx, ttl: 3600, rdata: [0, 10] + (try Name("mail.example.com.")).wire)
        let signer = ZoneSigner(apex: zone, keys: [key])
        // Inception 1438207200, expiration 1440021600.
        let timing = ZoneSigner.Timing(validity: 1_440_021_600 - 1_438_207_200 + 0, inceptionOffset: 0)
        let rrsig = try #require(try signer.signatures(over: [mx], now: 1_438_207_200, timing: timing).first)
        let signature = Data(rrsig.rdata.suffix(64)).base64EncodedString()
        #expect(signature == "oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg==")
    }

    @Test func keyFilesRoundTrip() throws {
        let dir = NSTemporaryDirectory() + "dnssec-keys-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for algorithm in [DNSSECAlgorithm.ecdsaP256SHA256, .ed25519] {
            let file = BINDKeyFile(zone: try Name("1bz."), key: try SigningKey.generate(algorithm: algorithm), created: 1_700_000_000)
            try file.write(to: dir)
            let read = try BINDKeyFile(path: "\(dir)/\(file.baseName).key")
            #expect(read.key.dnskeyRDATA == file.key.dnskeyRDATA)
            #expect(read.activate == 1_700_000_000)
        }
        #expect(try BINDKeyFile.load(directory: dir, zone: try Name("1bz.")).count == 2)
    }

    /// Issue 21, finding 9: a private key is never readable by others, not even for a
    /// moment: the file is created 0600 (before: written 0644, then chmod-ed) and a new
    /// key directory is 0700 (before: 0755); rewriting a key replaces it atomically.
    @Test func privateKeysAreOwnerOnlyFromTheStart() throws {
        let dir = NSTemporaryDirectory() + "dnssec-modes-\(UUID().uuidString)/keys"
        let file = BINDKeyFile(zone: try Name("1bz."), key: try SigningKey.generate(algorithm: .ed25519), created: 1)
        try file.write(to: dir)
        func mode(_ path: String) throws -> Int {
            try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        }
        #expect(try mode(dir) == 0o700)
        #expect(try mode("\(dir)/\(file.baseName).private") == 0o600)
        try file.write(to: dir)  // a rewrite (new timing metadata) replaces the file
        #expect(try mode("\(dir)/\(file.baseName).private") == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).count == 2, "no temporary file left")
    }

    @Test func badKeyFileNamesTheFile() throws {
        let dir = NSTemporaryDirectory() + "dnssec-bad-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: AAAA\n".write(
            toFile: "\(dir)/K1bz.+013+00001.private", atomically: true, encoding: .utf8)
        try "1bz. IN DNSKEY 257 3 13 AAAA\n".write(toFile: "\(dir)/K1bz.+013+00001.key", atomically: true, encoding: .utf8)
        do {
            _ = try BINDKeyFile.load(directory: dir, zone: try Name("1bz."))
            Issue.record("a bad key file was accepted")
        } catch {
            #expect("\(error)".contains("K1bz.+013+00001"))
        }
    }

    @Test func typeBitmap() {
        // RFC 4034 4.3: A MX RRSIG NSEC TYPE1234.
        let bitmap = TypeBitmap.encode([.a, .mx, .rrsig, .nsec, RRType(1234)])
        // Window 0: A (1), MX (15), RRSIG (46), NSEC (47); window 4: 1234 = 4 * 256 + 210.
        #expect(bitmap == [0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03, 0x04, 0x1b] + Array(repeating: 0, count: 26) + [0x20])
    }
}
