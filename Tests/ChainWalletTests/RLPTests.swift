import ChainReader
import Testing

/// Vectors from the Ethereum wiki's RLP page and the yellow paper.
@Suite struct RLPTests {
    @Test(arguments: [
        (RLP.bytes(Array("dog".utf8)), "83646f67"),
        (RLP.list([.bytes(Array("cat".utf8)), .bytes(Array("dog".utf8))]), "c88363617483646f67"),
        (RLP.bytes([]), "80"),
        (RLP.list([]), "c0"),
        (RLP.uint(0), "80"),
        (RLP.bytes([0x00]), "00"),
        (RLP.uint(15), "0f"),
        (RLP.uint(1024), "820400"),
        (RLP.list([.list([]), .list([.list([])]), .list([.list([]), .list([.list([])])])]), "c7c0c1c0c3c0c1c0"),
    ])
    func encodes(value: RLP, hex: String) {
        #expect(Hex.encode(value.encoded, prefix: false) == hex)
    }

    @Test func longStringGetsALengthOfLength() {
        let text = "Lorem ipsum dolor sit amet, consectetur adipisicing elit"
        let encoded = RLP.bytes(Array(text.utf8)).encoded
        #expect(encoded.prefix(2) == [0xb8, 0x38])
        #expect(encoded.count == 58)
    }

    @Test func arithmetic() {
        let ether = UInt256(decimal: "1000000000000000000")!
        #expect(ether == UInt256(1_000_000_000_000_000_000))
        #expect(ether.multiplied(by: 1000)!.description == "1000000000000000000000")
        #expect(UInt256(decimal: String(repeating: "9", count: 80)) == nil)
        #expect(UInt256(quantity: "0x3635c9adc5dea00000")!.description == "1000000000000000000000")
        #expect(UInt256(1024).quantity == "0x400" && UInt256.zero.quantity == "0x0")
        #expect(ether.multiplied(byUInt256: ether)!.description == "1000000000000000000000000000000000000")
        #expect(UInt256(5).subtracting(UInt256(7)) == nil && UInt256(7).subtracting(UInt256(5)) == UInt256(2))
    }
}
