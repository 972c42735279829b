import DNSWire

/// What the JSON gateway (`GET /resolve?name=`) asks about a 1bz node name. Implemented
/// by the dynamic resolver (chain + registry, through the same cache as DNS answers);
/// the gateway only formats it.
public protocol NodeLookupService: Sendable {
    /// The DNS name to classify for what a person typed (`<64 hex>.1bz` has no DNS
    /// form of its own: it becomes `<52 base32>.id.1bz`), so the gateway asks the
    /// engine what the name is before asking for a node.
    func dnsName(forUserText text: String) throws(NodeLookupError) -> Name

    /// `name` as the user typed it: `shashi.1bz`, `<52 base32>.id.1bz`, or `<64 hex>.1bz`
    /// (trailing dot optional, any case).
    func lookupNode(_ name: String) async throws(NodeLookupError) -> NodeInfo

    /// The evidence behind the node's facts (`/resolve?name=...&proof=1`) as a JSON
    /// object (bytes), read at `block`; nil when this server does not read proofs.
    func proofBundle(_ name: String, at block: UInt64) async throws(NodeLookupError) -> [UInt8]?
}

extension NodeLookupService {
    public func proofBundle(_ name: String, at block: UInt64) async throws(NodeLookupError) -> [UInt8]? { nil }
}

/// A verified view of one node, in the JSON shape of `/resolve`.
public struct NodeInfo: Sendable, Codable, Equatable {
    public var name: String
    public var nodeID: String
    /// 0x-prefixed bytes32.
    public var nodeHash: String
    /// PEM of the node's Ed25519 key, when signed metadata checked out; else nil.
    public var publicKey: String?
    public var ipv4: [String]
    public var ipv6: [String]
    /// 0...100, from the registry; nil when the registry is not configured or down.
    public var trust: Int?
    public var verified: Bool
    /// 0x-prefixed address of the node's wallet on chain.
    public var wallet: String
    /// The chain block these facts were read at.
    public var block: UInt64
    /// Whether the registry's metadata passed every check (key hashes to node id,
    /// node id hashes to the on-chain nodeHash, signature valid).
    public var metadataVerified: Bool
    /// Seconds this answer may be cached.
    public var ttl: UInt32

    public init(
        name: String, nodeID: String, nodeHash: String, publicKey: String?, ipv4: [String], ipv6: [String],
        trust: Int?, verified: Bool, wallet: String, block: UInt64, metadataVerified: Bool, ttl: UInt32
    ) {
        self.name = name
        self.nodeID = nodeID
        self.nodeHash = nodeHash
        self.publicKey = publicKey
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.trust = trust
        self.verified = verified
        self.wallet = wallet
        self.block = block
        self.metadataVerified = metadataVerified
        self.ttl = ttl
    }

    enum CodingKeys: String, CodingKey {
        case name, ipv4, ipv6, trust, verified, wallet, block, ttl
        case nodeID = "node_id"
        case nodeHash = "node_hash"
        case publicKey = "public_key"
        case metadataVerified = "metadata_verified"
    }
}

public enum NodeLookupError: Error, Equatable, Sendable {
    /// Not a 1bz node name (HTTP 400), with the reason.
    case invalidName(String)
    /// No such node (HTTP 404).
    case notFound
    /// Upstreams failed and nothing is cached (HTTP 503).
    case unavailable(String)
}
