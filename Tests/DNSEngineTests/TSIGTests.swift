import DNSEngine
import DNSTestSupport
import DNSWire
import Foundation
import Testing
import ZoneTransfer

@Suite struct TSIGTests {
    /// Requests signed by kdig (`-y hmac-sha256:transfer.1bz.:...`) and dig (`-k`, an
    /// hmac-sha512 key), captured from the wire: an independent implementation's MACs.
    static let kdigSOA = hex(
        "3776012000010000000000010331627a0000060001087472616e736665720331627a0000fa00ff00000000003d0b686d61632d"
            + "7368613235360000006b11679f012c00205f965d9ac8148e9f6e40080ea229d4dc9b92b3359ef85edcd96f50c1226816793776"
            + "00000000")
    static let kdigKey = TSIGKey(
        name: try! Name("transfer.1bz."), algorithm: .hmacSHA256,
        secret: Array(Data(base64Encoded: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==")!))
    static let kdigTime: UInt64 = 0x6b11_679f
    static let digSOA = hex(
        "4c67012000010000000000010331627a000006000103646967036b65790000fa00ff00000000005d0b686d61632d7368613531"
            + "320000006b1167a0012c004093e0becd321a8fc037f93bbca87cfdf66fc96dfa35d5540d25783945642f6497ba22f1367860"
            + "14ab70f83664db1aa59ea5295ecbe43e3c2c1f9d1d8e583f88074c6700000000")
    static let digKey = TSIGKey(
        name: try! Name("dig.key."), algorithm: .hmacSHA512,
        secret: Array(Data(base64Encoded: "YW5vdGhlci1zZWNyZXQtZm9yLWhtYWMtc2hhNTEyLWtleXM=")!))

    static func hex(_ text: String) -> [UInt8] {
        stride(from: 0, to: text.count, by: 2).map {
            UInt8(text.dropFirst($0).prefix(2), radix: 16)!
        }
    }

    func verify(_ request: [UInt8], keys: [TSIGKey], now: UInt64) -> TSIG.Verification {
        request.withUnsafeBytes { TSIG.verify($0, keys: TSIGKeyring(keys), now: now) }
    }

    @Test func kdigAndDigSignaturesVerify() throws {
        guard case .verified(let unsigned, let signer) = verify(Self.kdigSOA, keys: [Self.kdigKey], now: Self.kdigTime)
        else { Issue.record("kdig's hmac-sha256 request did not verify"); return }
        #expect(signer.key == Self.kdigKey)
        let message = try Message(decoding: unsigned)
        #expect(message.additionals.isEmpty && message.questions.first?.type == .soa)
        guard case .verified = verify(Self.digSOA, keys: [Self.digKey, Self.kdigKey], now: 0x6b11_67a0 + 299) else {
            Issue.record("dig's hmac-sha512 request did not verify"); return
        }
    }

    @Test func wrongSecretIsBADSIG() throws {
        let wrong = TSIGKey(name: Self.kdigKey.name, algorithm: .hmacSHA256, secret: Array("wrong".utf8))
        guard case .rejected(let response, let error, _) = verify(Self.kdigSOA, keys: [wrong], now: Self.kdigTime) else {
            Issue.record("a wrong secret was accepted"); return
        }
        #expect(error == .badSig)
        try expectTSIGError(response, .badSig, signed: false)
    }

    @Test func unknownKeyIsBADKEY() throws {
        guard case .rejected(let response, let error, let name) = verify(Self.kdigSOA, keys: [Self.digKey], now: Self.kdigTime)
        else { Issue.record("an unknown key was accepted"); return }
        #expect(error == .badKey && name == Self.kdigKey.name)
        try expectTSIGError(response, .badKey, signed: false)
        // The same name with another algorithm is another key (RFC 8945 5.2.1).
        let other = TSIGKey(name: Self.kdigKey.name, algorithm: .hmacSHA512, secret: Self.kdigKey.secret)
        guard case .rejected(_, .badKey, _) = verify(Self.kdigSOA, keys: [other], now: Self.kdigTime) else {
            Issue.record("an algorithm mismatch was accepted"); return
        }
    }

    @Test(arguments: [Int64(-301), 301, 100_000])
    func skewBeyondFudgeIsBADTIME(skew: Int64) throws {
        let now = UInt64(Int64(Self.kdigTime) + skew)
        guard case .rejected(let response, let error, _) = verify(Self.kdigSOA, keys: [Self.kdigKey], now: now) else {
            Issue.record("a request \(skew) s off was accepted"); return
        }
        #expect(error == .badTime)
        try expectTSIGError(response, .badTime, signed: true)
        // Other Data carries our time (RFC 8945 5.2.3).
        let tsig = try #require(try Message(decoding: response).additionals.last)
        #expect(Array(tsig.rdata.suffix(6)) == (0..<6).map { UInt8((now >> (40 - 8 * UInt64($0))) & 0xFF) })
    }

    @Test(arguments: [Int64(-300), 0, 300])
    func skewWithinFudgeVerifies(skew: Int64) {
        guard case .verified = verify(Self.kdigSOA, keys: [Self.kdigKey], now: UInt64(Int64(Self.kdigTime) + skew)) else {
            Issue.record("a request \(skew) s off was refused"); return
        }
    }

    @Test func tamperedRequestIsBADSIG() {
        var tampered = Self.kdigSOA
        tampered[3] ^= 0x10  // a flag bit (the ID is digested as the TSIG's original ID)
        guard case .rejected(_, .badSig, _) = verify(tampered, keys: [Self.kdigKey], now: Self.kdigTime) else {
            Issue.record("a tampered request verified"); return
        }
    }

    @Test func misplacedOrTruncatedTSIGIsMalformed() {
        // Cut inside the TSIG RDATA.
        let cut = Array(Self.kdigSOA.dropLast(4))
        guard case .malformed = verify(cut, keys: [Self.kdigKey], now: Self.kdigTime) else {
            Issue.record("a cut TSIG record was not FORMERR"); return
        }
        #expect(verifyIsUnsigned(EngineFixture.query("1bz", .soa)))
    }

    func verifyIsUnsigned(_ request: [UInt8]) -> Bool {
        if case .unsigned = verify(request, keys: [Self.kdigKey], now: 0) { return true }
        return false
    }

    @Test func signedRequestAndResponseRoundTrip() throws {
        let key = Self.kdigKey
        var request = TransferFixture.request(.axfr)
        var client = TSIGSigner.forRequest(key: key)
        client.sign(&request, now: 1_000_000)
        guard case .verified(_, var server) = verify(request, keys: [key], now: 1_000_100) else {
            Issue.record("our own signed request did not verify"); return
        }
        var response = Array(request.prefix(12))
        response[2] |= 0x80
        response[4...11] = [0, 0, 0, 0, 0, 0, 0, 0][...]
        server.sign(&response, now: 1_000_100)
        #expect(response.withUnsafeBytes { client.verifiesResponse($0) })
        var tampered = response
        tampered[3] ^= 0x01
        #expect(!tampered.withUnsafeBytes { client.verifiesResponse($0) })
    }

    /// Issue 22: a TSIG-signed UDP answer is sized to what the client takes (512 without
    /// EDNS, its EDNS size otherwise, at most ours), not to onebzd's UDP slot: before,
    /// a 480-byte answer to a client without EDNS went out as ~570 bytes with its TSIG.
    /// Too big once signed, it is the header and question with TC=1, signed (RFC 8945 5.3).
    @Test func signedUDPAnswersFitTheClientsSize() throws {
        let key = Self.kdigKey
        var request = TransferFixture.request(.soa)
        var client = TSIGSigner.forRequest(key: key)
        client.sign(&request, now: 1_000_000)
        guard case .verified(let unsigned, let server) = verify(request, keys: [key], now: 1_000_000) else {
            Issue.record("did not verify"); return
        }
        #expect(ZoneTransferResponder.udpLimit(ofRequest: unsigned, maxUDPPayload: 1232) == 512, "no EDNS: 512")
        var answer = Array(unsigned.prefix(12)) + Array(unsigned[12...])
        answer[2] |= 0x80
        answer += Array(repeating: 0, count: 480 - answer.count)  // padding stands in for records
        let fits = server.signedAnswer(answer, limit: nil, now: 1_000_000)
        #expect(fits.count > 512, "over TCP the whole answer, signed")
        let cut = server.signedAnswer(answer, limit: 512, now: 1_000_000)
        #expect(cut.count <= 512 && cut[2] & 0x02 != 0, "TC set")
        #expect(cut.withUnsafeBytes { client.verifiesResponse($0) }, "and signed")
        let message = try Message(decoding: cut)
        #expect(message.questions.count == 1 && message.answers.isEmpty)
    }

    func expectTSIGError(_ response: [UInt8], _ error: TSIGErrorCode, signed: Bool) throws {
        let message = try Message(decoding: response)
        #expect(message.header.isResponse && message.rcode == .notAuth)
        let tsig = try #require(message.additionals.last)
        #expect(tsig.type == TSIGRecord.type)
        // Algorithm name, time (6), fudge (2), then the MAC size.
        let algorithmEnd = tsig.rdata.firstIndex(of: 0)! + 1
        let macSize = Int(tsig.rdata[algorithmEnd + 8]) << 8 | Int(tsig.rdata[algorithmEnd + 9])
        #expect((macSize > 0) == signed)
        let errorOffset = algorithmEnd + 10 + macSize + 2
        #expect(UInt16(tsig.rdata[errorOffset]) << 8 | UInt16(tsig.rdata[errorOffset + 1]) == error.rawValue)
    }
}

@Suite struct TSIGKeyFileTests {
    @Test func parsesSeveralKeysWithComments() throws {
        let text = """
            # made by tsig-keygen
            key "transfer.1bz" {
                algorithm hmac-sha256; // the default
                secret "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==";
            };
            /* a second
               key */
            key other. { algorithm HMAC-SHA512; secret "MDEyMzQ1Njc4OWFiY2RlZg=="; };
            """
        let keys = try TSIGKeyFile.parse(text, file: "k.conf")
        #expect(keys.map(\.name) == [try Name("transfer.1bz."), try Name("other.")])
        #expect(keys.map(\.algorithm) == [.hmacSHA256, .hmacSHA512])
        #expect(keys[1].secret == Array("0123456789abcdef".utf8))
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        let text: String
        let line: Int
        let fragment: String
        var testDescription: String { fragment }
    }

    @Test(arguments: [
        Bad(text: "key \"a\" {\n algorithm hmac-md5;\n secret \"MDEyMzQ1Njc4OWFiY2RlZg==\";\n};", line: 2, fragment: "unsupported algorithm"),
        Bad(text: "key \"a\" {\n algorithm hmac-sha256;\n secret \"!!\";\n};", line: 3, fragment: "not base64"),
        Bad(text: "key \"a\" {\n algorithm hmac-sha256;\n};", line: 1, fragment: "has no secret"),
        Bad(text: "key \"a\" {\n secret \"MDEyMzQ1Njc4OWFiY2RlZg==\";\n};", line: 1, fragment: "has no algorithm"),
        Bad(text: "key \"a\" {\n algorithm hmac-sha256\n secret \"MDEyMzQ1Njc4OWFiY2RlZg==\";\n};", line: 3, fragment: "expected ';'"),
        Bad(text: "zone \"a\" {};", line: 1, fragment: "expected 'key'"),
        Bad(text: "key \"a\" {\n algorithm hmac-sha256;\n secret \"MDEyMzQ1Njc4OWFiY2RlZg==\";\n", line: 3, fragment: "unexpected end"),
        Bad(text: "key \"a\" { algorithm hmac-sha256; secret \"MDEyMzQ1Njc4OWFiY2RlZg==\"; };\nkey \"A.\" { algorithm hmac-sha256; secret \"MDEyMzQ1Njc4OWFiY2RlZg==\"; };", line: 2, fragment: "defined twice"),
        Bad(text: "key \"a\" { algorithm hmac-sha256; secret \"MDEyMzQ1Njc4OWFiY2RlZg==\"; owner x; };", line: 1, fragment: "unknown key field"),
        Bad(text: "/* never closed\nkey", line: 1, fragment: "unterminated"),
        // Issue 21, finding 9: a 3-byte secret was accepted.
        Bad(text: "key \"a\" {\n algorithm hmac-sha256;\n secret \"YWJj\";\n};", line: 1, fragment: "is 3 bytes; at least 16"),
    ])
    func badFilesNameTheLine(bad: Bad) {
        do {
            _ = try TSIGKeyFile.parse(bad.text, file: "k.conf")
            Issue.record("accepted: \(bad.text)")
        } catch {
            #expect(error.line == bad.line, "\(error)")
            #expect(error.description.hasPrefix("k.conf:\(bad.line): "))
            #expect(error.reason.contains(bad.fragment), "\(error)")
        }
    }
}
