import ChainReader

extension NodeHash {
    /// Keccak-256 comes from ChainReader (one implementation in the package).
    static func keccak256(_ bytes: [UInt8]) -> [UInt8] {
        fatalError("ChainReader Keccak-256 not merged yet")
    }
}
