import Logging
import Metrics

/// Reads what `resolveDNS` and `nodes` return straight from the contract's storage with
/// eth_getProof, each answer checked against the state root of a block a quorum of
/// endpoints agreed on (`BlockAgreement`). No endpoint is believed on its word: a proof
/// that does not verify is counted (`onebz_chain_proof_rejected_total`), logged, and the
/// read moves on to the next endpoint.
public struct ProvenRegistry: Sendable {
    /// Every endpoint, in order of preference (failover on a bad proof).
    public let client: JSONRPCClient
    public let address: EthereumAddress
    public let layout: RegistryStorageLayout
    public let blocks: BlockAgreement
    private let logger: Logger

    public init(
        client: JSONRPCClient, address: EthereumAddress, layout: RegistryStorageLayout, blocks: BlockAgreement,
        logger: Logger = Logger(label: "onebz.chain.proof")
    ) {
        self.client = client
        self.address = address
        self.layout = layout
        self.blocks = blocks
        self.logger = logger
    }

    /// The evidence behind one read: the agreed block and the proof that was checked.
    public struct Evidence: Sendable, Hashable {
        public let block: AgreedBlock
        public let proof: AccountProof
        public let slots: [UInt256]
    }

    /// `resolveDNS(name)` proven at `block`: nil when the name is free.
    public func resolveDNS(_ name: String, at block: UInt64) async throws -> Bytes32? {
        try await resolveDNSWithEvidence(name, at: block).hash
    }

    public func resolveDNSWithEvidence(_ name: String, at block: UInt64) async throws -> (
        hash: Bytes32?, evidence: Evidence
    ) {
        let slot = layout.dnsToNodeSlot(name: name)
        let (values, evidence) = try await read([slot], at: block)
        let hash = Bytes32(unchecked: values[slot]!.bigEndianBytes)
        return (hash.isZero || name.utf8.count > BizNodeRegistry.maxNameBytes ? nil : hash, evidence)
    }

    /// `nodes(nodeHash)` proven at `block`: nil when nothing is registered.
    public func node(_ nodeHash: Bytes32, at block: UInt64) async throws -> Node? {
        try await nodeWithEvidence(nodeHash, at: block).node
    }

    public func nodeWithEvidence(_ nodeHash: Bytes32, at block: UInt64) async throws -> (
        node: Node?, evidence: Evidence
    ) {
        let slots = layout.nodeSlots(nodeHash)
        var (values, evidence) = try await read(slots.initial, at: block)
        // A name longer than one word: ask again for everything it needs, so that one
        // proof (the evidence) covers the whole node.
        let words = try layout.nameWords(head: values[slots.nameHead]!)
        if words > 1 { (values, evidence) = try await read(slots.needed(nameWords: words), at: block) }
        return (try layout.node(from: values, slots: slots), evidence)
    }

    /// Name -> nodeHash and node, both proven at `block` (two proof requests: the node's
    /// slots follow from the hash).
    public func lookup(_ name: String, at block: UInt64) async throws -> ResolvedNode? {
        guard let hash = try await resolveDNS(name, at: block) else { return nil }
        return try await node(hash, at: block).map { ResolvedNode(nodeHash: hash, node: $0) }
    }

    private func read(_ slots: [UInt256], at number: UInt64) async throws -> ([UInt256: UInt256], Evidence) {
        let block = try await blocks.agreed(number)
        let logger = logger
        let (proof, values) = try await client.provenStorage(
            address: address, slots: slots, at: number, stateRoot: block.stateRoot
        ) { error in
            Counter(label: "onebz_chain_proof_rejected_total").increment()
            logger.warning(
                "an endpoint sent a storage proof that does not verify; trying the next one",
                metadata: ["block": "\(number)", "error": "\(error)"])
        }
        return (values, Evidence(block: block, proof: proof, slots: slots))
    }
}
