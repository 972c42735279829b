import ChainReader

extension NodeHash {
    /// Keccak-256 comes from ChainReader (one implementation in the package).
    static func keccak256(_ bytes: [UInt8]) -> [UInt8] { Keccak256.hash(bytes) }

    /// The contract's bytes32 form.
    public var bytes32: Bytes32 { Bytes32(bytes)! }
}
