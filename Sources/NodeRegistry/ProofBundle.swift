import ChainReader

/// The evidence behind one answer (`/resolve?name=...&proof=1`): the block, the storage
/// proofs of exactly what `resolveDNS` and `nodes` read, and the registry's signed record.
/// Anyone can check it against an RPC endpoint of their own choice (`onebz verify`):
/// only the block's hash and state root must come from somewhere trusted.
public struct ProofBundle: Codable, Sendable, Equatable {
    public struct Block: Codable, Sendable, Equatable {
        public var number: UInt64
        public var hash: Bytes32
        public var stateRoot: Bytes32

        public init(number: UInt64, hash: Bytes32, stateRoot: Bytes32) {
            self.number = number
            self.hash = hash
            self.stateRoot = stateRoot
        }

        enum CodingKeys: String, CodingKey {
            case number, hash
            case stateRoot = "state_root"
        }
    }

    public var version = 1
    /// The alias asked for; nil for a node-id name (then only `nodeProof` is needed).
    public var name: String?
    public var nodeHash: Bytes32
    public var block: Block
    public var contract: EthereumAddress
    /// "solidity" or "vyper": how the slots follow from the name and hash.
    public var storageLayout: String
    /// eth_getProof of `dnsToNode[name]` (aliases only).
    public var nameProof: JSONValue?
    /// eth_getProof of every slot `nodes(nodeHash)` reads.
    public var nodeProof: JSONValue
    /// The registry's signed metadata record, when it has one.
    public var record: NodeMetadata?

    public init(
        name: String?, nodeHash: Bytes32, block: Block, contract: EthereumAddress, storageLayout: String,
        nameProof: JSONValue?, nodeProof: JSONValue, record: NodeMetadata?
    ) {
        self.name = name
        self.nodeHash = nodeHash
        self.block = block
        self.contract = contract
        self.storageLayout = storageLayout
        self.nameProof = nameProof
        self.nodeProof = nodeProof
        self.record = record
    }

    enum CodingKeys: String, CodingKey {
        case version, name, block, contract, record
        case nodeHash = "node_hash"
        case storageLayout = "storage_layout"
        case nameProof = "name_proof"
        case nodeProof = "node_proof"
    }

    /// What a bundle proves once checked.
    public struct Checked: Sendable, Equatable {
        public let nodeHash: Bytes32
        public let node: Node
        /// The record, when present and its signature, key and node id all check out.
        public let record: VerifiedNodeMetadata?
    }

    /// Checks the bundle against `header`, the block as an endpoint the checker trusts
    /// reports it (same number). Throws ProofError naming what does not hold.
    public func check(against header: BlockHeader) throws(ProofError) -> Checked {
        guard header.number == block.number, header.hash == block.hash else {
            throw ProofError(
                "block \(block.number) is \(header.hash.hex) on your endpoint, \(block.hash.hex) in the bundle")
        }
        guard header.stateRoot == block.stateRoot else { throw ProofError("state root differs from your endpoint's") }
        guard header.isSelfConsistent else {
            throw ProofError("your endpoint's header of block \(block.number) does not hash to its hash: its state root cannot be trusted")
        }
        let layout: RegistryStorageLayout
        switch storageLayout {
        case "solidity": layout = .solidity
        case "vyper": layout = .vyper
        default: throw ProofError("unknown storage layout \(storageLayout)")
        }
        if let name {
            guard let nameProof else { throw ProofError("no proof of dnsToNode[\(name)]") }
            let slot = layout.dnsToNodeSlot(name: name)
            let values = try AccountProof(json: nameProof).verify(
                stateRoot: block.stateRoot, address: contract, slots: [slot])
            guard values[slot]?.bigEndianBytes == nodeHash.bytes else {
                throw ProofError("\(name) is registered to another node hash at this block")
            }
        }
        let slots = layout.nodeSlots(nodeHash)
        let proof = try AccountProof(json: nodeProof)
        var values = try proof.verify(stateRoot: block.stateRoot, address: contract, slots: slots.initial)
        let words = try layout.nameWords(head: values[slots.nameHead]!)
        if words > 1 {
            values = try proof.verify(
                stateRoot: block.stateRoot, address: contract, slots: slots.needed(nameWords: words))
        }
        guard let node = try layout.node(from: values, slots: slots) else {
            throw ProofError("no node \(nodeHash.hex) is registered at this block")
        }
        var verified: VerifiedNodeMetadata?
        if let record {
            do { verified = try record.verify() } catch { throw ProofError("the record's signature: \(error)") }
            guard verified?.nodeHash == nodeHash else {
                throw ProofError("the record's node id does not hash to the node hash")
            }
        }
        return Checked(nodeHash: nodeHash, node: node, record: verified)
    }
}
