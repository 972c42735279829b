/// What the registry serves for a node: the signed record plus the registry's own
/// attributes. JSON is flat: the record's keys plus the ones below.
public struct RegistryEntry: Codable, Hashable, Sendable {
    public var record: NodeMetadata
    /// `0x` + 64 hex: Keccak-256 of node_id.
    public var nodeHash: NodeHash
    /// 0...100, see `Trust`.
    public var trust: Int
    public var tier: String
    /// The on-chain flags as the registry last saw them.
    public var registered: Bool
    public var verified: Bool
    public var stakeWei: String
    /// Unix seconds of the last accepted record.
    public var updatedAt: Int64
    /// Unix seconds (the node's own timestamp) of the newest accepted heartbeat; nil when
    /// none is on file (also from registries that predate the field).
    public var lastHeartbeat: Int64?

    enum CodingKeys: String, CodingKey {
        case nodeHash = "node_hash"
        case trust, tier, registered, verified
        case stakeWei = "stake_wei"
        case updatedAt = "updated_at"
        case lastHeartbeat = "last_heartbeat"
    }

    public init(
        record: NodeMetadata, nodeHash: NodeHash, trust: Int, tier: String, registered: Bool,
        verified: Bool, stakeWei: String, updatedAt: Int64, lastHeartbeat: Int64? = nil
    ) {
        self.record = record
        self.nodeHash = nodeHash
        self.trust = trust
        self.tier = tier
        self.registered = registered
        self.verified = verified
        self.stakeWei = stakeWei
        self.updatedAt = updatedAt
        self.lastHeartbeat = lastHeartbeat
    }

    public init(from decoder: any Decoder) throws {
        record = try NodeMetadata(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nodeHash = try c.decode(NodeHash.self, forKey: .nodeHash)
        trust = try c.decode(Int.self, forKey: .trust)
        tier = try c.decode(String.self, forKey: .tier)
        registered = try c.decode(Bool.self, forKey: .registered)
        verified = try c.decode(Bool.self, forKey: .verified)
        stakeWei = try c.decode(String.self, forKey: .stakeWei)
        updatedAt = try c.decode(Int64.self, forKey: .updatedAt)
        lastHeartbeat = try c.decodeIfPresent(Int64.self, forKey: .lastHeartbeat)
    }

    public func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nodeHash, forKey: .nodeHash)
        try c.encode(trust, forKey: .trust)
        try c.encode(tier, forKey: .tier)
        try c.encode(registered, forKey: .registered)
        try c.encode(verified, forKey: .verified)
        try c.encode(stakeWei, forKey: .stakeWei)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encodeIfPresent(lastHeartbeat, forKey: .lastHeartbeat)
    }
}

/// A registry entry whose record passed `NodeMetadata.verify()`.
public struct VerifiedRegistryEntry: Hashable, Sendable {
    public let metadata: VerifiedNodeMetadata
    /// 0...100 (checked), the registry's score.
    public let trust: Int
    public let tier: String
    /// The on-chain flags as the registry last saw them (onebzd reads the chain itself).
    public let registered: Bool
    public let verified: Bool
    public let stakeWei: String
    public let updatedAt: Int64
    public var lastHeartbeat: Int64? = nil
}

/// One page of the change feed: node ids whose record or trust changed after `since`.
public struct ChangePage: Codable, Hashable, Sendable {
    public struct Change: Codable, Hashable, Sendable {
        public var cursor: UInt64
        public var nodeID: String
        enum CodingKeys: String, CodingKey {
            case cursor
            case nodeID = "node_id"
        }
        public init(cursor: UInt64, nodeID: String) {
            self.cursor = cursor
            self.nodeID = nodeID
        }
    }
    public var changes: [Change]
    /// Pass as `since` next time (equals `since` when nothing changed).
    public var next: UInt64

    public init(changes: [Change], next: UInt64) {
        self.changes = changes
        self.next = next
    }
}

/// One page of `GET /v1/nodes/export`: entries in node-hash order, each exactly as the
/// per-node GETs serve it (the signed record: the client checks it as it checks those).
public struct NodeExportPage: Codable, Hashable, Sendable {
    /// The most entries a page holds (`limit`'s cap and default).
    public static let maxLimit = 2000
    public var entries: [RegistryEntry]
    /// Pass as `after` for the next page; nil after the last one.
    public var next: NodeHash?

    public init(entries: [RegistryEntry], next: NodeHash?) {
        self.entries = entries
        self.next = next
    }
}

/// The registry's error body: `{"error": code, "detail": text}`.
public struct RegistryErrorBody: Codable, Hashable, Sendable {
    public var error: String
    public var detail: String
    /// With `no_record` from `by-name`: the node hash the registry's chain view has for
    /// the name (so a resolver that read the same hash from the chain knows a by-hash
    /// lookup would find nothing either).
    public var nodeHash: NodeHash?

    public init(error: String, detail: String, nodeHash: NodeHash? = nil) {
        self.error = error
        self.detail = detail
        self.nodeHash = nodeHash
    }

    enum CodingKeys: String, CodingKey {
        case error, detail
        case nodeHash = "node_hash"
    }
}
