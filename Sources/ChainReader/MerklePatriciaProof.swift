/// Checks Merkle-Patricia trie proofs (Yellow Paper appendix D; EIP-1186 proofs): the
/// RLP-encoded nodes on the path from the root to a key, each referenced by its parent
/// through keccak256 of its encoding (nodes shorter than 32 bytes are embedded in their
/// parent instead). A proof shows either the value at the key or that the key is absent.
public enum MerklePatriciaProof {
    /// keccak256(RLP("")): the root of an empty trie (an account without storage).
    public static let emptyRoot = Bytes32(unchecked: Keccak256.hash([0x80]))

    /// The value stored under `key` in the trie with root `root`, or nil when the proof
    /// shows that no value is stored there. `key` is the trie path itself (for Ethereum's
    /// secure tries: keccak256 of the address or of the 32-byte slot).
    public static func value(at key: [UInt8], root: Bytes32, proof: [[UInt8]]) throws(ProofError) -> [UInt8]? {
        try value(at: key, root: root, nodes: index(proof))
    }

    /// Proof nodes by keccak256 of their encoding, each distinct node hashed once (the
    /// storage proofs of one account share their upper nodes). Pooling nodes is safe:
    /// each is reached only through its hash from the root, as in geth's proof database.
    public static func index(_ proof: some Sequence<[UInt8]>) -> [Bytes32: [UInt8]] {
        var byHash: [Bytes32: [UInt8]] = [:]
        for node in Set(proof) { byHash[Bytes32(unchecked: Keccak256.hash(node))] = node }
        return byHash
    }

    /// `value(at:root:proof:)` over nodes already indexed by `index(_:)`.
    public static func value(at key: [UInt8], root: Bytes32, nodes byHash: [Bytes32: [UInt8]]) throws(ProofError)
        -> [UInt8]?
    {
        var nibbles = ArraySlice(key.flatMap { [$0 >> 4, $0 & 0x0f] })
        var reference: RLPItem = .bytes(root.bytes)
        for _ in 0...(2 * key.count + 1) {  // each step consumes a nibble or ends, bar one extension
            let node: [RLPItem]
            switch reference {
            case .list(let embedded):
                node = embedded
            case .bytes(let b) where b.isEmpty:
                return nil  // an empty child: nothing stored below
            case .bytes(let b) where b.count == 32:
                let hash = Bytes32(unchecked: b)
                guard let encoded = byHash[hash] else {
                    if hash == emptyRoot { return nil }
                    throw ProofError("no node with hash \(hash.hex) in the proof")
                }
                guard case .list(let items) = try decodeNode(encoded) else {
                    throw ProofError("node \(hash.hex) is not a list")
                }
                node = items
            case .bytes(let b):
                throw ProofError("child reference of \(b.count) bytes (want 0, 32 or an embedded node)")
            }
            switch node.count {
            case 17:
                guard let nibble = nibbles.first else {
                    guard case .bytes(let value) = node[16] else { throw ProofError("branch value is a list") }
                    return value.isEmpty ? nil : value
                }
                reference = node[Int(nibble)]
                nibbles = nibbles.dropFirst()
            case 2:
                guard case .bytes(let encodedPath) = node[0] else { throw ProofError("node path is a list") }
                let (path, isLeaf) = try hexPrefix(encodedPath)
                if isLeaf {
                    guard nibbles.elementsEqual(path) else { return nil }  // another key's leaf: ours is absent
                    guard case .bytes(let value) = node[1], !value.isEmpty else { throw ProofError("leaf value") }
                    return value
                }
                guard !path.isEmpty else { throw ProofError("extension with an empty path") }
                guard nibbles.starts(with: path) else { return nil }  // the path diverges: absent
                nibbles = nibbles.dropFirst(path.count)
                reference = node[1]
            default:
                throw ProofError("node of \(node.count) items (want 2 or 17)")
            }
        }
        throw ProofError("path longer than the key")
    }

    private static func decodeNode(_ encoded: [UInt8]) throws(ProofError) -> RLPItem {
        do { return try RLPDecoder.decode(encoded) } catch { throw ProofError("node: \(error)") }
    }

    /// Hex-prefix encoding (Yellow Paper appendix C): flag nibble 0/1 extension, 2/3
    /// leaf; odd flag = the first nibble follows in the same byte.
    static func hexPrefix(_ bytes: [UInt8]) throws(ProofError) -> (nibbles: [UInt8], isLeaf: Bool) {
        guard let first = bytes.first else { throw ProofError("empty hex-prefix path") }
        let flag = first >> 4
        guard flag <= 3 else { throw ProofError("hex-prefix flag \(flag)") }
        if flag & 1 == 0, first & 0x0f != 0 { throw ProofError("hex-prefix padding nibble is not zero") }
        var nibbles: [UInt8] = flag & 1 == 1 ? [first & 0x0f] : []
        for byte in bytes.dropFirst() { nibbles += [byte >> 4, byte & 0x0f] }
        return (nibbles, flag >= 2)
    }
}
