import ChainReader
import DNSEngine
import NIOConcurrencyHelpers
import NodeRegistry
import Testing

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
}
