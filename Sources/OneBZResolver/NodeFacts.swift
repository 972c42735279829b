import ChainReader
import NodeRegistry

/// What onebzd believes about one node name at one block: the chain's record, and the
/// registry's metadata only if it passed every check. Everything answers are rendered
/// from (DNS records, `/resolve` JSON).
package struct NodeFacts: Sendable, Equatable {
    package var name: NodeName
    package var nodeHash: NodeHash
    package var node: Node
    /// Known from a node-id name, or from metadata whose node_id hashes to `nodeHash`.
    package var nodeID: NodeID?
    package var metadata: Metadata
    /// The registry's trust score (0...100); nil without a registry record.
    package var trust: Int?
    /// The block the chain facts were read at.
    package var block: UInt64

    package enum Metadata: Sendable, Equatable {
        /// Signed by the node's key, key hashes to node_id, node_id hashes to nodeHash.
        /// Boxed: inline it would be most of the size of every cached name's facts,
        /// with or without metadata.
        indirect case verified(VerifiedNodeMetadata)
        /// The registry has no record for the node (or no registry is configured).
        case absent
        /// The registry served something that failed a check: never served, counted.
        case rejected(String)
    }

    package var verifiedMetadata: VerifiedNodeMetadata? {
        if case .verified(let m) = metadata { return m }
        return nil
    }
}

/// The outcome of asking the upstreams about a name.
package enum NodeLookupOutcome: Sendable, Equatable {
    case found(NodeFacts)
    /// The contract has no such name (or the node-id name's hash has no node): NXDOMAIN.
    case nonexistent(block: UInt64)
}

/// An upstream (chain RPC or registry) failed: the caller serves stale or SERVFAIL,
/// never NXDOMAIN.
package struct UpstreamFailure: Error, CustomStringConvertible {
    package enum Upstream: String, Sendable { case chain, registry, notSynced = "not-synced" }
    package let upstream: Upstream
    package let detail: String

    package init(_ upstream: Upstream, _ detail: String) {
        self.upstream = upstream
        self.detail = detail
    }

    package var description: String { "\(upstream.rawValue): \(detail)" }
}
