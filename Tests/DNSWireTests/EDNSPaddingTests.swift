import DNSWire
import Testing

/// RFC 7830 padding with the RFC 8467 4.1 block-length policy (468 octets).
@Suite struct EDNSPaddingTests {
    /// `ns1.1bz A` with EDNS and, if given, a Padding option of that many zero octets
    /// (kdig +padding sends one that pads the query to 128 octets).
    static func query(padding: Int?) -> [UInt8] {
        var bytes = hex("abcd01000001000000000001036e73310331627a0000010001")
        var options: [UInt8] = []
        if let padding {
            options = [0, 12, UInt8(padding >> 8), UInt8(padding & 0xFF)] + Array(repeating: 0, count: padding)
        }
        bytes += [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, UInt8(options.count >> 8), UInt8(options.count & 0xFF)] + options
        return bytes
    }

    static var responseHeader: Header {
        var header = Header()
        header.id = 7
        header.isResponse = true
        header.authoritative = true
        return header
    }

    @Test func aPaddedQueryAsksForPaddingAnUnpaddedOneDoesNot() {
        #expect(Self.query(padding: 0).withUnsafeBytes(EDNSPadding.isRequested))
        #expect(Self.query(padding: 77).withUnsafeBytes(EDNSPadding.isRequested))
        #expect(!Self.query(padding: nil).withUnsafeBytes(EDNSPadding.isRequested))
        #expect(!GoldenPacketTests.digCookieQuery.withUnsafeBytes(EDNSPadding.isRequested))
        // Truncated or lying counts: not a padded query (the engine answers FORMERR).
        #expect(!Array(Self.query(padding: 8).dropLast(3)).withUnsafeBytes(EDNSPadding.isRequested))
    }

    @Test(arguments: [0, 1, 100, 463, 464, 465, 467, 468, 469, 1000, 4000])
    func responsesArePaddedToAMultipleOf468AndStillDecode(extra: Int) throws {
        // A response with an OPT last and `extra` octets of TXT before it.
        var response = Message(header: Self.responseHeader)
        let name = try Name("a.1bz.")
        var txt: [UInt8] = []
        var remaining = extra
        repeat {
            let chunk = min(255, remaining)
            txt += [UInt8(chunk)] + Array(repeating: 0x61, count: chunk)
            remaining -= chunk
        } while remaining > 0
        response.answers = [ResourceRecord(name: name, type: .txt, rrClass: .in, ttl: 60, rdata: txt)]
        response.edns = EDNS(udpPayloadSize: 1232)
        let bytes = try response.encoded()
        let padded = try #require(bytes.withUnsafeBytes { EDNSPadding.padded($0) })
        #expect(padded.count % 468 == 0)
        #expect(padded.count >= bytes.count + 4 && padded.count < bytes.count + 4 + 468)
        let decoded = try Message(decoding: padded)
        #expect(decoded.answers == response.answers)
        #expect(decoded.edns?.udpPayloadSize == 1232)
        #expect(padded.withUnsafeBytes(EDNSPadding.isRequested))
    }

    @Test func withoutAnOPTLastThereIsNothingToPad() throws {
        var response = Message(header: Self.responseHeader)
        response.answers = [
            ResourceRecord(name: try Name("a.1bz."), type: .a, rrClass: .in, ttl: 60, rdata: [192, 0, 2, 1])
        ]
        let bytes = try response.encoded()
        #expect(bytes.withUnsafeBytes { EDNSPadding.padded($0) } == nil)
        #expect(Array(bytes.dropLast()).withUnsafeBytes { EDNSPadding.padded($0) } == nil)
        #expect([UInt8](repeating: 0, count: 5).withUnsafeBytes { EDNSPadding.padded($0) } == nil)
    }
}
