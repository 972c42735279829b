@testable import HTTPGateway
import Testing

@Suite struct Base64URLTests {
    @Test(arguments: [[], [0], [0, 1], [0, 1, 2], [251, 255, 191], Array(0...255)] as [[UInt8]])
    func roundTrips(bytes: [UInt8]) {
        #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
    }

    @Test func decodesTheRFC8484Example() {
        // RFC 8484 4.1.1: www.example.com A, ID 0, RD.
        let bytes = Base64URL.decode("AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB")
        #expect(bytes?.count == 33)
        #expect(bytes?.prefix(4) == [0, 0, 1, 0])
    }

    @Test func toleratesPadding() {
        #expect(Base64URL.decode("AAE=") == [0, 1])
    }

    @Test(arguments: ["A", "AA+A", "AA/A", "AA A", "A===A", "é"])
    func rejectsOutsideTheAlphabet(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }
}
