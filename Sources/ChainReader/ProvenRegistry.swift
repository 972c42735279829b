import Logging
import Metrics
import NIOConcurrencyHelpers

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
    /// name -> the node hash it was last proven to have: hints for one-request lookups.
    private let hints = NIOLockedValueBox<[String: Bytes32]>([:])
    private static let maxHints = 100_000

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

    /// Name -> nodeHash and node, both proven at `block`. The node's slots follow from the
    /// hash, so a name seen before is read in one request with the hash it had (the
    /// contract never re-assigns a name; the hint is checked like everything else); a new
    /// name, or a hint the proof contradicts, takes a second request.
    public func lookup(_ name: String, at block: UInt64) async throws -> ResolvedNode? {
        guard name.utf8.count <= BizNodeRegistry.maxNameBytes else { return nil }
        if let hinted = hints.withLockedValue({ $0[name] }) {
            let nameSlot = layout.dnsToNodeSlot(name: name)
            let slots = layout.nodeSlots(hinted)
            let (values, _) = try await read([nameSlot] + slots.initial, at: block)
            let proven = Bytes32(unchecked: values[nameSlot]!.bigEndianBytes)
            if proven.isZero { return nil }
            if proven == hinted, try layout.nameWords(head: values[slots.nameHead]!) <= 1 {
                return try layout.node(from: values, slots: slots).map { ResolvedNode(nodeHash: hinted, node: $0) }
            }
        }
        guard let hash = try await resolveDNS(name, at: block) else { return nil }
        remember(name, hash)
        return try await node(hash, at: block).map { ResolvedNode(nodeHash: hash, node: $0) }
    }

    private func remember(_ name: String, _ hash: Bytes32) {
        hints.withLockedValue { hints in
            if hints.count >= Self.maxHints { hints.removeAll(keepingCapacity: true) }
            hints[name] = hash
        }
    }

    /// The proven values of `slots` at block `number`. A block not agreed yet is agreed
    /// while the proof is on its way (the two round trips overlap, so a miss at a new block
    /// still costs about one); the proof is checked once the root is known. A proof that
    /// does not verify is asked for again through the verifying call, which fails over
    /// past the endpoint that sent it.
    private func read(_ slots: [UInt256], at number: UInt64) async throws -> ([UInt256: UInt256], Evidence) {
        let rejected = rejectionReporter(number)
        async let agreement = blocks.agreed(number)
        let early = try? await client.proof(address: address, slots: slots, at: .number(number))
        let block = try await agreement
        if let early {
            do throws(ProofError) {
                let values = try early.verify(stateRoot: block.stateRoot, address: address, slots: slots)
                return (values, Evidence(block: block, proof: early, slots: slots))
            } catch {
                rejected(error)
            }
        }
        let (proof, values) = try await client.provenStorage(
            address: address, slots: slots, at: number, stateRoot: block.stateRoot, rejected: rejected)
        return (values, Evidence(block: block, proof: proof, slots: slots))
    }

    private func rejectionReporter(_ number: UInt64) -> @Sendable (ProofError) -> Void {
        let logger = logger
        return { error in
            Counter(label: "onebz_chain_proof_rejected_total").increment()
            logger.warning(
                "an endpoint sent a storage proof that does not verify; trying the next one",
                metadata: ["block": "\(number)", "error": "\(error)"])
        }
    }
}
