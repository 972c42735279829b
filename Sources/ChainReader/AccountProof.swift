/// An `eth_getProof` answer (EIP-1186) as the endpoint sent it: claims plus the proofs
/// that must back them. Nothing in it is believed until `verify(stateRoot:)` checked it.
public struct AccountProof: Sendable, Hashable {
    public struct StorageEntry: Sendable, Hashable {
        /// The slot (32 bytes).
        public let key: UInt256
        /// What the endpoint claims is stored there.
        public let value: UInt256
        public let proof: [[UInt8]]

        public init(key: UInt256, value: UInt256, proof: [[UInt8]]) {
            self.key = key
            self.value = value
            self.proof = proof
        }
    }

    public let address: EthereumAddress
    public let accountProof: [[UInt8]]
    public let nonce: UInt256
    public let balance: UInt256
    public let codeHash: Bytes32
    public let storageHash: Bytes32
    public let storageProof: [StorageEntry]

    public init(
        address: EthereumAddress, accountProof: [[UInt8]], nonce: UInt256, balance: UInt256, codeHash: Bytes32,
        storageHash: Bytes32, storageProof: [StorageEntry]
    ) {
        self.address = address
        self.accountProof = accountProof
        self.nonce = nonce
        self.balance = balance
        self.codeHash = codeHash
        self.storageHash = storageHash
        self.storageProof = storageProof
    }

    /// keccak256 of empty code: the code hash of an account that does not exist.
    public static let emptyCodeHash = Bytes32(unchecked: Keccak256.hash([]))

    /// Checks the account proof against `stateRoot` and every storage proof against the
    /// proven storage root; returns the proven values of `slots` (each must be answered).
    /// Any claim the proofs do not back throws: the endpoint lied or is broken.
    public func verify(stateRoot: Bytes32, address expected: EthereumAddress, slots: [UInt256]) throws(ProofError)
        -> [UInt256: UInt256]
    {
        guard address == expected else { throw ProofError("proof is for \(address.hex), asked for \(expected.hex)") }
        let accountKey = Keccak256.hash(expected.bytes)
        let storageRoot: Bytes32
        if let encoded = try MerklePatriciaProof.value(at: accountKey, root: stateRoot, proof: accountProof) {
            let fields: [RLPItem]
            do { fields = try RLPDecoder.decode(encoded).listValue ?? [] } catch {
                throw ProofError("account: \(error)")
            }
            guard fields.count == 4, let n = fields[0].bytesValue, let b = fields[1].bytesValue,
                let s = fields[2].bytesValue.flatMap(Bytes32.init), let c = fields[3].bytesValue.flatMap(Bytes32.init)
            else { throw ProofError("account is not [nonce, balance, storageRoot, codeHash]") }
            guard try Self.integer(n) == nonce, try Self.integer(b) == balance, s == storageHash, c == codeHash else {
                throw ProofError("the account fields disagree with the account proof")
            }
            storageRoot = s
        } else {
            // No such account at this block: everything it could hold is zero.
            guard nonce.isZero, balance.isZero, codeHash == Self.emptyCodeHash || codeHash.isZero,
                storageHash == MerklePatriciaProof.emptyRoot || storageHash.isZero
            else { throw ProofError("account fields claimed for an account the proof shows absent") }
            storageRoot = MerklePatriciaProof.emptyRoot
        }
        var claimed: [UInt256: StorageEntry] = [:]
        for entry in storageProof { claimed[entry.key] = entry }
        let nodes = MerklePatriciaProof.index(slots.flatMap { claimed[$0]?.proof ?? [] })
        var values: [UInt256: UInt256] = [:]
        for slot in slots {
            guard let entry = claimed[slot] else { throw ProofError("no storage proof for slot \(slot.hex)") }
            let key = Keccak256.hash(slot.bigEndianBytes)
            let proven: UInt256
            if let encoded = try MerklePatriciaProof.value(at: key, root: storageRoot, nodes: nodes) {
                let item: RLPItem
                do { item = try RLPDecoder.decode(encoded) } catch { throw ProofError("storage value: \(error)") }
                guard case .bytes(let raw) = item, !raw.isEmpty else {
                    throw ProofError("storage value is not a number")
                }
                proven = try Self.integer(raw)
            } else {
                proven = .zero
            }
            guard proven == entry.value else {
                throw ProofError("slot \(slot.hex): claimed \(entry.value.hex), proven \(proven.hex)")
            }
            values[slot] = proven
        }
        return values
    }

    /// A canonical RLP integer: big-endian, at most 32 bytes, no leading zero byte.
    static func integer(_ bytes: [UInt8]) throws(ProofError) -> UInt256 {
        guard bytes.count <= 32 else { throw ProofError("integer of \(bytes.count) bytes") }
        if bytes.first == 0 { throw ProofError("integer with a leading zero byte") }
        return UInt256(bigEndianBytes: [UInt8](repeating: 0, count: 32 - bytes.count) + bytes)!
    }
}
