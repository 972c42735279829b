import ChainReader
import DNSEngine
import DNSWire
import ZoneCache

/// The real dynamic source (`DynamicNodeSource`, its cache, the real renderer) over a
/// synthetic chain on which every alias exists, for `Benchmarks/` (a separate package,
/// which sees only public API, hence the SPI). Filling resolves each name through the
/// source's own miss path, so the cache holds exactly what a first query leaves there.
/// Not for production use.
@_spi(Benchmarks)
public struct DynamicCacheHarness: Sendable {
    /// An engine answering the zone and, through `source`, the dynamic names.
    public let engine: QueryEngine
    public var source: any DynamicAnswerSource { dynamic }
    private let dynamic: DynamicNodeSource

    /// `maxEntries` bounds the cached names; the byte bound scales with it.
    public init(zone: Zone, maxEntries: Int = 1_000_000) {
        var settings = DynamicNodeSource.Settings()
        settings.limits = AnswerCacheLimits(
            maxEntries: maxEntries, maxBytes: maxEntries * 1024, maxStaleNanoseconds: 86_400 * 1_000_000_000)
        let head = ChainHead()
        head.advance(to: 1)
        dynamic = DynamicNodeSource(
            resolver: NodeResolver(chain: SyntheticChain(), registry: nil), head: head, settings: settings)
        engine = QueryEngine(zone: zone, dynamicSource: dynamic)
    }

    /// Resolves `name` for `type` as a first query would (chain lookup, facts cached,
    /// answer rendered and cached).
    public func fill(_ name: Name, type: RRType) async {
        _ = await dynamic.resolve(name: name, type: type)
    }

    public var cachedNameCount: Int { dynamic.cachedNameCount }
}

/// Every alias is registered, verified, to one wallet; node hashes differ per name so
/// tags (and so the invalidation index) are per node, as on a real chain.
private struct SyntheticChain: ChainNodeReader {
    static let wallet = EthereumAddress(Array(repeating: 0x22, count: 20))!

    func lookup(_ name: String, at block: UInt64) async throws -> ResolvedNode? {
        ResolvedNode(nodeHash: Self.hash(name), node: node(name))
    }

    func node(_ nodeHash: Bytes32, at block: UInt64) async throws -> Node? { nil }

    private func node(_ name: String) -> Node {
        Node(wallet: Self.wallet, dnsName: name, verified: true, stakeAmount: .zero, registeredAt: 1)
    }

    /// Four FNV-1a lanes: distinct names get distinct hashes (not keccak, not needed here).
    private static func hash(_ name: String) -> Bytes32 {
        var bytes: [UInt8] = []
        for lane in UInt64(0)..<4 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325 &+ lane
            for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            bytes += withUnsafeBytes(of: hash, Array.init)
        }
        return Bytes32(bytes)!
    }
}
