import ChainReader

extension EthereumAddress {
    /// EIP-55 mixed-case checksum form, as wallets and explorers print addresses.
    public var checksummed: String {
        let hex = Hex.encode(bytes, prefix: false)
        let hash = Keccak256.hash(hex)
        var out = "0x"
        for (i, char) in hex.enumerated() {
            let nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0x0f
            out.append(nibble >= 8 ? Character(char.uppercased()) : char)
        }
        return out
    }
}
