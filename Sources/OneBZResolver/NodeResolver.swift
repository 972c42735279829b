import ChainReader
import NodeRegistry

/// The chain side of a lookup: the BizNodeRegistry contract, read at a pinned block.
/// A protocol so robustness tests can put a fault-injecting reader in front.
package protocol ChainNodeReader: Sendable {
    /// `resolveDNS(name)` then `nodes(hash)`, in one call where a lookup helper exists.
    func lookup(_ name: String, at block: UInt64) async throws -> ResolvedNode?
    func node(_ nodeHash: NodeHash, at block: UInt64) async throws -> Node?
}

extension BizNodeRegistry: ChainNodeReader {
    package func lookup(_ name: String, at block: UInt64) async throws -> ResolvedNode? {
        try await lookup(name, at: .number(block))
    }

    package func node(_ nodeHash: NodeHash, at block: UInt64) async throws -> Node? {
        try await node(nodeHash, at: .number(block))
    }
}

/// The registry side: signed metadata, verified by the client (never trusted as served).
package protocol MetadataSource: Sendable {
    func fetch(nodeHash: NodeHash) async throws(RegistryClientError) -> VerifiedRegistryEntry
    func fetch(nodeId: NodeID) async throws(RegistryClientError) -> VerifiedRegistryEntry
    func fetch(name: String) async throws(RegistryClientError) -> VerifiedRegistryEntry
}

extension RegistryClient: MetadataSource {}

/// Name -> verified node (docs/design.md#the-miss-path): the chain read pinned to the
/// follower's block and the registry fetched concurrently, so a miss costs about the
/// slower of the two, not their sum. For aliases the registry is asked by name (its
/// view of the chain); the chain's node hash decides whether that record is the right
/// one, and a mismatch or a miss falls back to asking by hash.
package struct NodeResolver: Sendable {
    package let chain: any ChainNodeReader
    package let registry: (any MetadataSource)?
    /// The highest record seq seen per node: an older record is a replay.
    package let sequence: RecordSequence

    package init(chain: any ChainNodeReader, registry: (any MetadataSource)?, sequence: RecordSequence = RecordSequence()) {
        self.chain = chain
        self.registry = registry
        self.sequence = sequence
    }

    package func resolve(_ name: NodeName, at block: UInt64) async throws(UpstreamFailure) -> NodeLookupOutcome {
        switch name {
        case .alias(let alias):
            async let byName = registryEntry(name: alias)
            let resolved: ResolvedNode?
            do { resolved = try await chain.lookup(alias, at: block) } catch {
                _ = await byName
                throw UpstreamFailure(.chain, "\(error)")
            }
            let hinted = await byName
            guard let resolved else { return .nonexistent(block: block) }
            let metadata: (NodeFacts.Metadata, Int?)
            switch hinted {
            case .success(let entry)? where entry.metadata.nodeHash == resolved.nodeHash:
                metadata = (.verified(entry.metadata), entry.trust)
            case .failure(let error)? where error.kind == .notFound && error.registeredNodeHash == resolved.nodeHash:
                // The registry knows this registration and has no record for it: asking by
                // hash would say the same.
                metadata = (.absent, nil)
            default:
                metadata = try await self.metadata(for: resolved.nodeHash, expected: nil)
            }
            return .found(facts(name, resolved.nodeHash, resolved.node, nil, metadata, block))
        case .nodeID(let id):
            let hash = NodeHash(nodeID: id)
            async let fetched = metadata(for: hash, expected: id)
            let node: Node?
            do { node = try await chain.node(hash, at: block) } catch {
                _ = try? await fetched
                throw UpstreamFailure(.chain, "\(error)")
            }
            let metadata: (NodeFacts.Metadata, Int?)
            do { metadata = try await fetched } catch {
                throw error as? UpstreamFailure ?? UpstreamFailure(.registry, "\(error)")
            }
            guard let node else { return .nonexistent(block: block) }
            return .found(facts(name, hash, node, id, metadata, block))
        }
    }

    private func facts(
        _ name: NodeName, _ hash: NodeHash, _ node: Node, _ id: NodeID?, _ fetched: (NodeFacts.Metadata, Int?),
        _ block: UInt64
    ) -> NodeFacts {
        var metadata = fetched.0
        if case .verified(let record) = metadata, let floor = sequence.admit(hash, seq: record.seq) {
            metadata = .rejected("record seq \(record.seq) is older than seq \(floor) already seen (a replayed record)")
        }
        var facts = NodeFacts(
            name: name, nodeHash: hash, node: node, nodeID: id, metadata: metadata, trust: fetched.1, block: block)
        if let verified = facts.verifiedMetadata { facts.nodeID = verified.nodeID }
        return facts
    }

    /// The registry's record for a name, as a hint (nil without a registry).
    private func registryEntry(name: String) async -> Result<VerifiedRegistryEntry, RegistryClientError>? {
        guard let registry else { return nil }
        do { return .success(try await registry.fetch(name: name)) } catch { return .failure(error) }
    }

    /// The registry's record: verified, absent, or rejected (a check failed). Only an
    /// unreachable registry is a failure.
    private func metadata(
        for hash: NodeHash, expected: NodeID?
    ) async throws(UpstreamFailure) -> (NodeFacts.Metadata, Int?) {
        guard let registry else { return (.absent, nil) }
        let answer: Result<VerifiedRegistryEntry, RegistryClientError>
        do throws(RegistryClientError) {
            if let expected {
                answer = .success(try await registry.fetch(nodeId: expected))
            } else {
                answer = .success(try await registry.fetch(nodeHash: hash))
            }
        } catch {
            answer = .failure(error)
        }
        return try Self.metadata(answer, for: hash)
    }

    /// What the registry's answer about node `hash` makes of its metadata (the client
    /// checked key -> node_id and the signature; the chain is the authority on which
    /// node a name belongs to). Only an unreachable registry is a failure.
    private static func metadata(
        _ answer: Result<VerifiedRegistryEntry, RegistryClientError>, for hash: NodeHash
    ) throws(UpstreamFailure) -> (NodeFacts.Metadata, Int?) {
        switch answer {
        case .success(let entry):
            guard entry.metadata.nodeHash == hash else {
                return (.rejected("record's node_id does not hash to the on-chain nodeHash"), nil)
            }
            return (.verified(entry.metadata), entry.trust)
        case .failure(let error):
            switch error.kind {
            case .notFound: return (.absent, nil)
            case .invalidResponse, .rejected: return (.rejected(error.detail), nil)
            default: throw UpstreamFailure(.registry, error.description)
            }
        }
    }

    /// The outcome of `resolve(name, at: block)` from facts at hand (the bulk path of a
    /// cold start, `BulkMaterializer`): `node`, the chain's node `hash` at `block` (nil:
    /// no such node), and the registry's answer about it as a GET by hash would give it
    /// (`RegistryEntry.verified(nodeHash:)`, `.notFound` when it holds no record). The
    /// same checks and the same facts as `resolve`.
    package func outcome(
        for name: NodeName, hash: NodeHash, node: Node?,
        registry answer: Result<VerifiedRegistryEntry, RegistryClientError>, at block: UInt64
    ) throws(UpstreamFailure) -> NodeLookupOutcome {
        guard let node else { return .nonexistent(block: block) }
        let metadata = registry == nil ? (.absent, nil) : try Self.metadata(answer, for: hash)
        var id: NodeID? = nil
        if case .nodeID(let nodeID) = name { id = nodeID }
        return .found(facts(name, hash, node, id, metadata, block))
    }
}
