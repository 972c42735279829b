import ChainReader
import DNSEngine
import NIOConcurrencyHelpers
import Foundation
import Testing

@testable import NodeRegistry

@testable import OneBZResolver

/// NodeResolver's registry calls for an alias whose node published no record: the
/// by-name hint runs beside the chain read, and a by-hash call follows only when the
/// hint cannot vouch for the chain's node hash.
@Suite struct NodeResolverTests {
    /// FAKE registry with no records: by-name answers `notFound`, optionally naming the
    /// hash its chain view has for the name; counts by-hash calls.
    final class RecordlessRegistry: MetadataSource {
        let knownHash: NodeHash?
        let byHashCalls = NIOLockedValueBox(0)

        init(knownHash: NodeHash?) { self.knownHash = knownHash }

        func fetch(nodeHash: NodeHash) async throws(RegistryClientError) -> VerifiedRegistryEntry {
            byHashCalls.withLockedValue { $0 += 1 }
            throw RegistryClientError(kind: .notFound, detail: "no record")
        }

        func fetch(nodeId: NodeID) async throws(RegistryClientError) -> VerifiedRegistryEntry {
            throw RegistryClientError(kind: .notFound, detail: "no record")
        }

        func fetch(name: String) async throws(RegistryClientError) -> VerifiedRegistryEntry {
            throw RegistryClientError(kind: .notFound, detail: "no record", status: 404, registeredNodeHash: knownHash)
        }
    }

    static let shashi = DynamicNodeSourceTests.shashi
    static let otherHash = NodeHash(hex: "0x" + String(repeating: "33", count: 32))!

    @Test(arguments: [
        (shashi.nodeHash, 0),  // the registry vouches for the chain's hash: no by-hash call
        (otherHash, 1),  // it knows another hash (its view lags a change): ask by hash
        (nil, 1),  // it has not seen the name registered: ask by hash
    ] as [(NodeHash?, Int)])
    func byHashFollowsOnlyWhenTheHintCannotVouch(knownHash: NodeHash?, byHashCalls: Int) async throws {
        let chain = DynamicNodeSourceTests.FaultInjectingChain(["shashi.1bz": Self.shashi])
        let registry = RecordlessRegistry(knownHash: knownHash)
        let resolver = NodeResolver(chain: chain, registry: registry)
        let outcome = try await resolver.resolve(.alias("shashi.1bz"), at: 1)
        guard case .found(let facts) = outcome else {
            Issue.record("shashi.1bz not found: \(outcome)")
            return
        }
        #expect(facts.nodeHash == Self.shashi.nodeHash)
        #expect(facts.verifiedMetadata == nil)
        #expect(registry.byHashCalls.withLockedValue { $0 } == byHashCalls)
    }

    /// FAKE registry serving one node's record signed with whatever seq the test sets,
    /// as a compromised registry replaying an old record would.
    final class ReplayingRegistry: MetadataSource {
        let key = Ed25519PrivateKey(seed: Array(repeating: 9, count: 32))
        let seq = NIOLockedValueBox<UInt64>(5)

        func entry() throws(RegistryClientError) -> VerifiedRegistryEntry {
            let seq = self.seq.withLockedValue { $0 }
            do {
                let record = try NodeMetadata.signed(by: key, ipv4: ["192.0.2.\(seq)"], ipv6: [], seq: seq)
                return VerifiedRegistryEntry(
                    metadata: try record.verify(), trust: 50, tier: "t", registered: true, verified: true, stakeWei: "0",
                    updatedAt: 0)
            } catch { throw RegistryClientError(kind: .rejected, detail: "\(error)") }
        }
        func fetch(nodeHash: NodeHash) async throws(RegistryClientError) -> VerifiedRegistryEntry { try entry() }
        func fetch(nodeId: NodeID) async throws(RegistryClientError) -> VerifiedRegistryEntry { try entry() }
        func fetch(name: String) async throws(RegistryClientError) -> VerifiedRegistryEntry { try entry() }
    }

    /// Issue 21, finding 7: an older signed record is refused once a newer one was seen,
    /// also after a restart (the floor is kept in `seq_file`). Before, the replayed
    /// record's old address was served.
    @Test func anOlderRecordThanOneSeenIsAReplay() async throws {
        let registry = ReplayingRegistry()
        let node = ResolvedNode(
            nodeHash: registry.key.publicKey.nodeID.nodeHash,
            node: Node(wallet: DynamicNodeSourceTests.wallet, dnsName: "replay.1bz", verified: true, stakeAmount: .zero, registeredAt: 1))
        let chain = DynamicNodeSourceTests.FaultInjectingChain(["replay.1bz": node])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("seq-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }

        func addresses(_ resolver: NodeResolver) async throws -> [String]? {
            guard case .found(let facts) = try await resolver.resolve(.alias("replay.1bz"), at: 1) else { return nil }
            return facts.verifiedMetadata?.ipv4
        }
        let resolver = NodeResolver(chain: chain, registry: registry, sequence: try RecordSequence(path: path))
        #expect(try await addresses(resolver) == ["192.0.2.5"])
        registry.seq.withLockedValue { $0 = 3 }
        #expect(try await addresses(resolver) == nil, "seq 3 after seq 5 is a replay")
        registry.seq.withLockedValue { $0 = 5 }
        #expect(try await addresses(resolver) == ["192.0.2.5"], "the same seq again is fine")
        registry.seq.withLockedValue { $0 = 7 }
        #expect(try await addresses(resolver) == ["192.0.2.7"])
        // A restart reads the floor back.
        registry.seq.withLockedValue { $0 = 6 }
        let restarted = NodeResolver(chain: chain, registry: registry, sequence: try RecordSequence(path: path))
        #expect(try await addresses(restarted) == nil)
        // The restart compacted the file to one line for the node (two raises were appended).
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 1)
    }
}
