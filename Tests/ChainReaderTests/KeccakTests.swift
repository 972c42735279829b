import ChainReader
import Testing

@Suite struct KeccakTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let label: String
        let input: [UInt8]
        let digest: String
        var testDescription: String { label }
    }

    /// Counting bytes (i mod 251), so every length crosses the 136-byte rate differently.
    static func counting(_ n: Int) -> [UInt8] { (0..<n).map { UInt8($0 % 251) } }

    static let vectors: [Vector] = [
        // Published Keccak-256 (Ethereum) vectors.
        Vector(label: "empty", input: [], digest: "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
        Vector(label: "abc", input: Array("abc".utf8), digest: "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
        Vector(
            label: "quick brown fox", input: Array("The quick brown fox jumps over the lazy dog".utf8),
            digest: "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15"),
        // Around the 136-byte rate (padding in the same block, a block of its own, two
        // blocks), cross-checked with eth_utils.keccak (the devnet's implementation).
        Vector(label: "135 bytes", input: counting(135), digest: "cbdfd9dee5faad3818d6b06f95a219fd290b0e1706f6a82e5a595b9ce9faca62"),
        Vector(label: "136 bytes", input: counting(136), digest: "7ce759f1ab7f9ce437719970c26b0a66ff11fe3e38e17df89cf5d29c7d7f807e"),
        Vector(label: "137 bytes", input: counting(137), digest: "ac73d4fae68b8453f764007c1a20ce95994187861f0c3227a3a8e99a73a3b1db"),
        Vector(label: "271 bytes", input: counting(271), digest: "27eceb59ebc3dc8a04a5b135be641591a7278540e4556a2ba9f408194e666ec3"),
        Vector(label: "272 bytes", input: counting(272), digest: "8e2476e65823b24d96ebe239f2c1534cdf763e689e2410c3b1cb0c74e6177bfc"),
        Vector(label: "1000 bytes", input: counting(1000), digest: "af692982e84a5a9688359025660a7857cd28ee7c8d867cfa1677baf2e6d1f63b"),
        Vector(
            label: "a x 1,000,000", input: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000),
            digest: "fadae6b49f129bbb812be8407b7b2894f34aecf6dbd1f9b0f0c7e9853098fc96"),
    ]

    @Test(arguments: vectors)
    func digest(_ vector: Vector) {
        #expect(Hex.encode(Keccak256.hash(vector.input), prefix: false) == vector.digest)
    }

    @Test(arguments: [1, 7, 64, 135, 136, 137, 500])
    func incrementalUpdatesMatchOneShot(chunk: Int) {
        let input = Self.counting(1000)
        var hasher = Keccak256()
        var index = 0
        while index < input.count {
            hasher.update(input[index..<min(index + chunk, input.count)])
            index += chunk
        }
        #expect(hasher.finalize() == Keccak256.hash(input))
    }

    @Test func knownSelectorsAndTopics() {
        #expect(Hex.encode(ABI.selector("transfer(address,uint256)")) == "0xa9059cbb")
        #expect(
            ABI.eventTopic("Transfer(address,address,uint256)").hex
                == "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
    }
}
