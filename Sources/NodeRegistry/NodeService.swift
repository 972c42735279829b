/// A service a node declares in its signed record (`services: [{"proto": "https",
/// "port": 443}]`, docs/registry.md#services): onebzd publishes TLSA and HTTPS records
/// for it (docs/dns.md#web-service-records). Read from hostile JSON: `NodeMetadata.verify()`
/// checks every value before anything is published.
public struct NodeService: Codable, Hashable, Sendable {
    public var proto: String
    public var port: Int

    /// The protocols a record may declare. A record naming another one is invalid (a
    /// reader cannot publish what it does not understand, and must not drop part of
    /// what the node signed).
    public static let knownProtocols: Set<String> = ["https"]
    /// At most this many services per record.
    public static let maxCount = 8

    public init(proto: String, port: Int) {
        self.proto = proto
        self.port = port
    }

    public static func https(port: Int) -> NodeService { NodeService(proto: "https", port: port) }

    /// The service's term in the signed bytes: `proto/port` (port in decimal, no leading
    /// zeros).
    public var canonicalText: String { "\(proto)/\(port)" }

    /// Checks one list as a record carries it: at least one service, at most `maxCount`,
    /// known protocols, ports 1-65535, no duplicates. Returns the list sorted by
    /// `canonicalText` bytes (the signed order).
    static func validated(_ services: [NodeService]) throws(RecordError) -> [NodeService] {
        guard !services.isEmpty else {
            throw .invalidServices("services must list at least one service (omit the field for none)")
        }
        guard services.count <= maxCount else { throw .invalidServices("more than \(maxCount) services") }
        for service in services {
            guard knownProtocols.contains(service.proto) else {
                throw .invalidServices(
                    "unknown proto \(String(service.proto.prefix(32)).debugDescription) (known: https)")
            }
            guard (1...65535).contains(service.port) else {
                throw .invalidServices("port \(service.port) is not in 1-65535")
            }
        }
        let sorted = services.sorted { $0.canonicalText.utf8.lexicographicallyPrecedes($1.canonicalText.utf8) }
        guard Set(sorted).count == sorted.count else { throw .invalidServices("duplicate service") }
        return sorted
    }
}
