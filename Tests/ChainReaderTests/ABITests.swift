import ChainReader
import Testing

@Suite struct ABITests {
    /// resolveDNS("shashi.1bz") calldata, as docs/chain.md builds it for curl.
    static let resolveShashi =
        "0xbe5f2bc5"
        + "0000000000000000000000000000000000000000000000000000000000000020"
        + "000000000000000000000000000000000000000000000000000000000000000a"
        + "7368617368692e31627a00000000000000000000000000000000000000000000"

    @Test func encodesResolveDNSCall() {
        let data = ABI.encodeCall("resolveDNS(string)", [.string("shashi.1bz")])
        #expect(Hex.encode(data) == Self.resolveShashi)
    }

    @Test func encodesRegisterNodeWithHeadAndTail() {
        let hash = Bytes32(hex: "0x" + String(repeating: "ab", count: 32))!
        let data = ABI.encode([.bytes32(hash), .string("acme.1bz")])
        #expect(data.count == 4 * 32)
        #expect(Array(data[32..<64]) == ABI.encode([.uint256(64)]))  // offset after two head words
        #expect(Array(data[64..<96]) == ABI.encode([.uint256(8)]))
    }

    @Test(arguments: [
        [ABIValue.string("")],
        [.string(String(repeating: "x", count: 32))],
        [.string("ünïcødé.1bz"), .bool(true), .uint256(UInt256(UInt64.max))],
        [.address(EthereumAddress(hex: "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF")!), .string("a"), .bool(false),
         .uint256(5), .uint256(1_795_612_415)],
        [.tuple([.uint256(1), .bool(true)]), .string("after a static tuple"), .bytes32(.zero)],
        [.tuple([.string("dynamic tuple"), .uint256(9)]), .address(.zero)],
    ])
    func roundTrips(_ values: [ABIValue]) throws {
        let encoded = ABI.encode(values)
        #expect(encoded.count % 32 == 0)
        #expect(try ABI.decode(values.map(\.type), from: encoded) == values)
    }

    @Test func staticTupleIsInline() throws {
        let encoded = ABI.encode([.tuple([.uint256(1), .uint256(2)]), .uint256(3)])
        #expect(encoded.count == 96)
        #expect(ABIType.tuple([.uint256, .bool]).isDynamic == false)
        #expect(ABIType.tuple([.uint256, .string]).isDynamic == true)
    }

    /// nodes(bytes32) return data as the devnet returned it for a verified sample node.
    @Test func decodesNodesReturn() throws {
        let hex =
            "0000000000000000000000002b5ad5c4795c026514f8317c7a215e218dccd6cf"
            + "00000000000000000000000000000000000000000000000000000000000000a0"
            + "0000000000000000000000000000000000000000000000000000000000000001"
            + "0000000000000000000000000000000000000000000000004563918244f40000"
            + "000000000000000000000000000000000000000000000000000000006b06df72"
            + "000000000000000000000000000000000000000000000000000000000000000a"
            + "7368617368692e31627a00000000000000000000000000000000000000000000"
        let values = try ABI.decode([.address, .string, .bool, .uint256, .uint256], from: Hex.decode(hex)!)
        #expect(values[0].addressValue?.hex == "0x2b5ad5c4795c026514f8317c7a215e218dccd6cf")
        #expect(values[1].stringValue == "shashi.1bz")
        #expect(values[2].boolValue == true)
        #expect(values[3].uint256Value?.description == "5000000000000000000")
        #expect(values[4].uint256Value?.uint64 == 0x6b06df72)
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        let label: String
        let types: [ABIType]
        let hex: String
        var testDescription: String { label }
    }

    static let word0 = String(repeating: "0", count: 64)

    @Test(arguments: [
        Malformed(label: "empty", types: [.bytes32], hex: ""),
        Malformed(label: "short word", types: [.uint256], hex: String(repeating: "0", count: 62)),
        Malformed(label: "bool 2", types: [.bool], hex: String(repeating: "0", count: 63) + "2"),
        Malformed(label: "address padding", types: [.address], hex: "01" + String(repeating: "0", count: 62)),
        Malformed(label: "offset outside", types: [.string], hex: String(repeating: "0", count: 62) + "ff"),
        Malformed(label: "huge offset", types: [.string], hex: "ff" + String(repeating: "0", count: 62)),
        Malformed(
            label: "length beyond data", types: [.string],
            hex: String(repeating: "0", count: 62) + "20" + String(repeating: "0", count: 62) + "40"),
        Malformed(
            label: "invalid utf8", types: [.string],
            hex: String(repeating: "0", count: 62) + "20" + String(repeating: "0", count: 62) + "01" + "ff"
                + String(repeating: "0", count: 62)),
    ])
    func rejectsMalformed(_ input: Malformed) {
        #expect(throws: ABIError.self) { try ABI.decode(input.types, from: Hex.decode(input.hex)!) }
    }

    @Test func uint256Text() {
        #expect(UInt256(0).description == "0")
        #expect(UInt256(10 * 1_000_000_000_000_000_000).description == "10000000000000000000")
        let max = UInt256(bigEndianBytes: [UInt8](repeating: 0xff, count: 32))!
        #expect(max.description == "115792089237316195423570985008687907853269984665640564039457584007913129639935")
        #expect(max.uint64 == nil)
        #expect(UInt256(3) < UInt256(4))
    }

    @Test func hexHelpers() {
        #expect(Hex.quantity("0x0") == 0)
        #expect(Hex.quantity("0x1b4") == 436)
        #expect(Hex.quantity("1b4") == nil)
        #expect(Hex.quantity("0x") == nil)
        #expect(Hex.quantity("0x1ffffffffffffffff") == nil)
        #expect(Hex.decode("0xabc") == nil)
        #expect(Hex.decode("0xzz") == nil)
        #expect(Bytes32(hex: "0x12") == nil)
        #expect(EthereumAddress(hex: "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF")?.hex
            == "0x2b5ad5c4795c026514f8317c7a215e218dccd6cf")
    }
}
