import ChainReader
import DNSTestSupport
import DNSWire
import NIOConcurrencyHelpers
import NodeRegistry
import Testing
import ZoneCache
import ZoneTransfer

import OneBZResolver

/// The cold start in bulk against per-node lookups over the same FAKE registry (it serves
/// the same entries by GET and by export, one of them forged, one under another node's
/// hash, one node without a record) and the same chain: the same zone, no chain read.
@Suite struct BulkMaterializerTests {
    typealias Chain = DynamicNodeSourceTests.FaultInjectingChain

    /// FAKE registry: the entries by hash, served by GET and by export (pages of 2).
    final class ExportingRegistry: MetadataSource, RegistryExportSource {
        let entries: [NodeHash: RegistryEntry]
        let exports = NIOLockedValueBox(0)

        init(_ entries: [NodeHash: RegistryEntry]) { self.entries = entries }

        func fetch(nodeHash: NodeHash) async throws(RegistryClientError) -> VerifiedRegistryEntry {
            guard let entry = entries[nodeHash] else { throw RegistryClientError(kind: .notFound, detail: "no record") }
            return try entry.verified(nodeHash: nodeHash)
        }

        func fetch(nodeId: NodeID) async throws(RegistryClientError) -> VerifiedRegistryEntry {
            try await fetch(nodeHash: NodeHash(nodeID: nodeId))
        }

        func fetch(name: String) async throws(RegistryClientError) -> VerifiedRegistryEntry {
            throw RegistryClientError(kind: .notFound, detail: "no chain view")
        }

        func export(after: NodeHash?, limit: Int) async throws(RegistryClientError) -> NodeExportPage {
            exports.withLockedValue { $0 += 1 }
            let sorted = entries.values.sorted { $0.nodeHash.hex < $1.nodeHash.hex }
                .filter { after == nil || $0.nodeHash.hex > after!.hex }
            let page = Array(sorted.prefix(2))
            return NodeExportPage(entries: page, next: sorted.count > 2 ? page.last?.nodeHash : nil)
        }
    }

    static func key(_ byte: UInt8) -> Ed25519PrivateKey { Ed25519PrivateKey(seed: Array(repeating: byte, count: 32)) }

    static func entry(_ record: NodeMetadata, trust: Int = 40) -> RegistryEntry {
        RegistryEntry(
            record: record, nodeHash: NodeHash(nodeID: NodeID(hex: record.nodeID)!), trust: trust, tier: "verified",
            registered: true, verified: true, stakeWei: "0", updatedAt: 1)
    }

    @Test func bulkBuildsThePerNodeZoneWithoutAChainRead() async throws {
        let wallet = DynamicNodeSourceTests.wallet
        let names = ["good.1bz", "forged.1bz", "none.1bz", "v6.1bz", "moved.1bz"]
        var nodes: [String: ResolvedNode] = [:]
        var entries: [NodeHash: RegistryEntry] = [:]
        for (index, name) in names.enumerated() {
            let key = Self.key(UInt8(index + 1))
            let hash = NodeHash(nodeID: key.publicKey.nodeID)
            nodes[name] = ResolvedNode(
                nodeHash: hash,
                node: Node(wallet: wallet, dnsName: name, verified: index % 2 == 0, stakeAmount: UInt256(UInt64(index)), registeredAt: 7))
            var record = try NodeMetadata.signed(
                by: key, ipv4: ["192.0.2.\(index + 1)"], ipv6: name == "v6.1bz" ? ["2001:db8::6"] : [], seq: 1)
            switch name {
            case "forged.1bz": record.ipv4 = ["192.0.2.66"]  // signature no longer holds
            case "none.1bz": continue
            default: break
            }
            entries[hash] = Self.entry(record)
        }
        // Listed under moved.1bz's hash: another node's (valid) record.
        let movedHash = nodes["moved.1bz"]!.nodeHash
        entries[movedHash] = RegistryEntry(
            record: try NodeMetadata.signed(by: Self.key(0x77), ipv4: ["192.0.2.77"], ipv6: [], seq: 1), nodeHash: movedHash,
            trust: 40, tier: "verified", registered: true, verified: true, stakeWei: "0", updatedAt: 1)
        let registry = ExportingRegistry(entries)

        func materialise(bulk: Bool) async -> (Set<ResourceRecord>, chainCalls: Int) {
            let chain = Chain(nodes)
            var settings = MaterializedZone.Settings()
            settings.positiveTTL = 60
            settings.collectEventFacts = bulk
            let zone = MaterializedZone(staticZone: EngineFixture.shippedZone, settings: settings)
            let resolver = NodeResolver(chain: chain, registry: registry)
            var materializerSettings = ZoneMaterializer.Settings()
            materializerSettings.bulkThreshold = 0
            let bulkMaterializer = BulkMaterializer(
                timestamps: { blocks in Dictionary(uniqueKeysWithValues: blocks.map { ($0, 7) }) }, registry: registry,
                resolver: resolver, chunk: 2, logger: .init(label: "test"))
            let materializer = ZoneMaterializer(
                zone: zone, resolver: resolver, bulk: bulk ? bulkMaterializer : nil, settings: materializerSettings,
                logger: .init(label: "test"))
            var batch = ChainBatch()
            for (name, node) in nodes.sorted(by: { $0.key < $1.key }) {
                batch.add(.registered(nodeHash: node.nodeHash, name: name, wallet: wallet, block: 3))
                if node.node.verified { batch.add(.verified(nodeHash: node.nodeHash)) }
                if !node.node.stakeAmount.isZero { batch.add(.stakeAdded(nodeHash: node.nodeHash, amount: node.node.stakeAmount)) }
            }
            zone.apply(batch, syncedTo: 9)
            await materializer.round()
            var records = Set<ResourceRecord>()
            if let version = zone.currentVersion() {
                var iterator = version.makeRecordIterator()
                while let record = iterator.next() { records.insert(record) }
            }
            return (records, chain.calls.withLockedValue { $0 })
        }
        let perNode = await materialise(bulk: false)
        let bulk = await materialise(bulk: true)
        #expect(!perNode.0.isEmpty && perNode.chainCalls == names.count)
        #expect(bulk.0 == perNode.0, "the same zone")
        #expect(bulk.chainCalls == 0, "no chain read in bulk")
        #expect(registry.exports.withLockedValue { $0 } == 2, "4 entries, 2 a page")
        let addresses = Set(bulk.0.filter { $0.type == .a }.map { "\($0.name) \($0.rdata)" })
        #expect(addresses.contains { $0.hasPrefix("good.1bz") } && addresses.contains { $0.hasPrefix("v6.1bz") })
        #expect(!addresses.contains { $0.hasPrefix("forged.1bz") || $0.hasPrefix("moved.1bz") }, "\(addresses)")
    }
}
