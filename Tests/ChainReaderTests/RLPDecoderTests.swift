import ChainReader
import Testing

@Suite struct RLPDecoderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let hex: String
        let item: RLPItem
        var testDescription: String { hex }
    }

    // The Yellow Paper / ethereum wiki examples.
    static let valid: [Case] = [
        Case(hex: "83646f67", item: .bytes(Array("dog".utf8))),
        Case(hex: "c88363617483646f67", item: .list([.bytes(Array("cat".utf8)), .bytes(Array("dog".utf8))])),
        Case(hex: "80", item: .bytes([])),
        Case(hex: "c0", item: .list([])),
        Case(hex: "00", item: .bytes([0])),
        Case(hex: "0f", item: .bytes([0x0f])),
        Case(hex: "820400", item: .bytes([0x04, 0x00])),
        Case(hex: "c7c0c1c0c3c0c1c0", item: .list([.list([]), .list([.list([])]), .list([.list([]), .list([.list([])])])])),
        Case(
            hex: "b8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963696e6720656c6974",
            item: .bytes(Array("Lorem ipsum dolor sit amet, consectetur adipisicing elit".utf8))),
    ]

    @Test(arguments: valid) func decodes(_ c: Case) throws {
        #expect(try RLPDecoder.decode(Hex.decode(c.hex)!) == c.item)
    }

    static let invalid: [String] = [
        "",  // nothing
        "8100",  // a single byte below 0x80 wrapped
        "83646f",  // string runs past the input
        "c88363617483646f",  // list runs past the input
        "b80100",  // long form for a short length
        "b90001" + String(repeating: "00", count: 1),  // length with a leading zero
        "83646f6700",  // bytes after the item
        "c3836461",  // item inside the list runs past the list
    ]

    @Test(arguments: invalid) func rejects(_ hex: String) {
        #expect(throws: RLPDecodingError.self) { try RLPDecoder.decode(Hex.decode(hex)!) }
    }

    @Test func rejectsDeepNesting() {
        let deep = [UInt8](repeating: 0xc1, count: 40) + [0xc0]
        // c1 c1 ... c0 claims one byte each but nests 40 deep; lengths are wrong too, so
        // build a consistent one: each level wraps the next.
        var bytes: [UInt8] = [0xc0]
        for _ in 0..<40 { bytes = [0xc0 + UInt8(bytes.count)] + bytes }
        #expect(throws: RLPDecodingError.self) { try RLPDecoder.decode(bytes) }
        #expect(throws: RLPDecodingError.self) { try RLPDecoder.decode(deep) }
    }
}
