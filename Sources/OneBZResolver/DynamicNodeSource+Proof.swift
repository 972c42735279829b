import ChainReader
import DNSEngine
import Foundation
import NodeRegistry

extension DynamicNodeSource {
    /// `/resolve?name=...&proof=1`: the storage proofs of the name's node hash and the
    /// node's fields at `block` (the block of the answer), read afresh, with the
    /// registry's signed record. Nil in call mode (no proofs are read there).
    package func proofBundle(_ text: String, at block: UInt64) async throws(NodeLookupError) -> [UInt8]? {
        guard let proven = resolver.chain as? ProvenRegistry else { return nil }
        let nodeName = try NodeName(userText: text)
        do {
            var alias: String?
            var nameEvidence: ProvenRegistry.Evidence?
            let hash: NodeHash
            switch nodeName {
            case .alias(let name):
                let (found, evidence) = try await proven.resolveDNSWithEvidence(name, at: block)
                guard let found else { throw NodeLookupError.notFound }
                (alias, nameEvidence, hash) = (name, evidence, found)
            case .nodeID(let id):
                hash = NodeHash(nodeID: id)
            }
            let (node, evidence) = try await proven.nodeWithEvidence(hash, at: block)
            guard node != nil else { throw NodeLookupError.notFound }
            let record = try? await resolver.registry?.fetch(nodeHash: hash).metadata.record
            let bundle = ProofBundle(
                name: alias, nodeHash: hash,
                block: .init(number: block, hash: evidence.block.hash, stateRoot: evidence.block.stateRoot),
                contract: proven.address, storageLayout: proven.layout.language.rawValue,
                nameProof: nameEvidence?.proof.json, nodeProof: evidence.proof.json, record: record)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Array(try encoder.encode(bundle))
        } catch let error as NodeLookupError {
            throw error
        } catch {
            throw .unavailable("the proofs could not be read: \(error)")
        }
    }
}
