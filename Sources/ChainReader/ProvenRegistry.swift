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
    private let hintOutcomes = (
        hit: Counter(label: "onebz_chain_proof_hints_total", dimensions: [("outcome", "hit")]),
        wrong: Counter(label: "onebz_chain_proof_hints_total", dimensions: [("outcome", "wrong")])
    )

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
    /// hash, so with a hint for the name (an earlier lookup's, or `hint(name:nodeHash:)`'s)
    /// the name's slot and the node's slots are read in one eth_getProof, and the proof
    /// must show that the name's slot holds the hinted hash; without a hint, or when the
    /// proof contradicts it, the node is read in a second request (the contract never
    /// re-assigns a name, so a hint is only wrong when it was fed wrong).
    public func lookup(_ name: String, at block: UInt64) async throws -> ResolvedNode? {
        guard name.utf8.count <= BizNodeRegistry.maxNameBytes else { return nil }
        let nameSlot = layout.dnsToNodeSlot(name: name)
        let proven: Bytes32
        if let hinted = hints.withLockedValue({ $0[name] }) {
            let slots = layout.nodeSlots(hinted)
            let (values, _) = try await read([nameSlot] + slots.initial, at: block)
            proven = Bytes32(unchecked: values[nameSlot]!.bigEndianBytes)
            if proven.isZero { return nil }  // not registered yet at this (older) block
            if proven == hinted {
                hintOutcomes.hit.increment()
                // A name longer than one word: its node's remaining words, one more request.
                let words = try layout.nameWords(head: values[slots.nameHead]!)
                var all = values
                if words > 1 { all = try await read(slots.needed(nameWords: words), at: block).0 }
                return try layout.node(from: all, slots: slots).map { ResolvedNode(nodeHash: hinted, node: $0) }
            } else {
                hintOutcomes.wrong.increment()
                logger.info(
                    "a name hint was wrong; reading the proven node instead",
                    metadata: ["name": "\(name)", "hint": "\(hinted.hex)", "proven": "\(proven.hex)"])
                remember(name, proven)
            }
        } else {
            guard let hash = try await resolveDNS(name, at: block) else { return nil }
            remember(name, hash)
            proven = hash
        }
        return try await node(proven, at: block).map { ResolvedNode(nodeHash: proven, node: $0) }
    }

    /// Tells the registry that `name` (lowercase, as looked up) was registered for
    /// `nodeHash`, e.g. from the event follower's NodeRegistered events, so that its first
    /// lookup is one request too. A hint is never believed: the proof checks it, and a
    /// wrong one only costs a second request.
    public func hint(name: String, nodeHash: Bytes32) {
        remember(name, nodeHash)
    }

    private func remember(_ name: String, _ hash: Bytes32) {
        hints.withLockedValue { hints in
            if hints.count >= Self.maxHints { hints.removeAll(keepingCapacity: true) }
            hints[name] = hash
        }
    }

    /// The proven values of `slots` at block `number`: one eth_getProof, checked against
    /// the agreed block's root. At a block not agreed yet, the proof rides in the same
    /// HTTP request as the preferred endpoint's header (a batch; `BlockAgreement.begin`),
    /// or, when another miss already started the agreement, is asked for while it runs:
    /// either way about one round trip. A proof that does not verify is reported and
    /// asked for again through the verifying call, which fails over past the endpoint
    /// that sent it.
    private func read(_ slots: [UInt256], at number: UInt64) async throws -> ([UInt256: UInt256], Evidence) {
        let rejected = rejectionReporter(number)
        let params = JSONRPCClient.proofParams(address, slots, .number(number))
        let piggyback = BlockAgreement.Piggyback(method: "eth_getProof", params: params, endpoint: client.currentEndpoint)
        let block: AgreedBlock
        let early: JSONValue?
        switch blocks.begin(number, piggyback: piggyback) {
        case .known(let known):
            (block, early) = (known, nil)
        case .started(let agreement):
            let outcome = try await agreement.value
            (block, early) = (outcome.block, try? outcome.piggyback?.get())
        case .joined(let agreement):
            async let proof = try? client.call("eth_getProof", params)
            let agreed = try await agreement.value.block
            (block, early) = (agreed, await proof)
        }
        if let early {
            do throws(ProofError) {
                let proof = try AccountProof(json: early)
                let values = try proof.verify(stateRoot: block.stateRoot, address: address, slots: slots)
                return (values, Evidence(block: block, proof: proof, slots: slots))
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
