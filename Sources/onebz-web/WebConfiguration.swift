import Foundation
import HTTPServerGuard
import TOMLConfiguration

/// onebz-web's settings: the TOML file (docs/configuration.md, "onebz-web"), then flags
/// over it.
struct WebConfiguration: Sendable {
    var listenHost = "127.0.0.1"
    var listenPort = 8443
    /// Host names `NAME.<domain>` reach `NAME.1bz`; lower case, no trailing dot.
    var domain = ""
    /// `ADDRESS@PORT` of onebzd or a 1bz secondary.
    var resolver = ""
    var trustAnchorFile = ""
    var tls: TLSFiles?
    /// How often the TLS files are checked for a change (SIGHUP re-reads them at once).
    var tlsReloadInterval: Duration = .seconds(5)
    var allowedNetworks: [NetworkPrefix] = []
    var allowPlainHTTPNodes = false
    /// Path of the access log; nil or "-": stdout.
    var accessLog: String?
    var maxHeaderBytes = 16 * 1024
    var maxBodyBytes = 10 * 1024 * 1024
    var connectTimeout: Duration = .seconds(5)
    /// Time for the node to answer (its response head), and for each later read.
    var upstreamTimeout: Duration = .seconds(30)
    var resolverThreads = 4
    /// Idle TLS connections kept per node (address, port, name, TLSA); 0: none kept.
    var nodeIdleConnections = 32
    /// Idle connections kept to all nodes together.
    var nodeIdleConnectionsTotal = 512
    /// An idle connection to a node is closed after this.
    var nodeIdleTimeout: Duration = .seconds(30)
    var limits = HTTPServerLimits()

    static let keys: Set<String> = [
        "listen", "domain", "resolver", "trust_anchor", "tls_cert", "tls_key", "tls_reload_interval", "allow_networks", "allow_loopback_nodes",
        "allow_plain_http_nodes", "access_log", "max_header_bytes", "max_body_bytes", "connect_timeout",
        "upstream_timeout", "resolver_threads", "node_idle_connections", "node_idle_connections_total", "node_idle_timeout", "idle_timeout", "body_timeout", "tls_handshake_timeout", "max_connections", "max_connections_per_client",
    ]

    static let loopbackNetworks = [NetworkPrefix("127.0.0.0/8")!, NetworkPrefix("::1/128")!]

    mutating func read(file path: String) throws(ConfigurationError) {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigurationError(key: "--config", "cannot read \(path): \(error.localizedDescription)")
        }
        let table = try TableReader.document(text)
        try table.onlyKeys(Self.keys)
        if let listen = try table.string("listen") { try setListen(listen, key: "listen") }
        if let domain = try table.string("domain") { try setDomain(domain, key: "domain") }
        if let resolver = try table.string("resolver") { try setResolver(resolver, key: "resolver") }
        if let anchor = try table.string("trust_anchor") { trustAnchorFile = anchor }
        let cert = try table.string("tls_cert")
        let key = try table.string("tls_key")
        if cert != nil || key != nil {
            guard let cert, let key else {
                throw ConfigurationError(key: cert == nil ? "tls_cert" : "tls_key", "tls_cert and tls_key go together")
            }
            tls = TLSFiles(certificateChain: cert, privateKey: key)
        }
        for (index, text) in (try table.strings("allow_networks") ?? []).enumerated() {
            guard let prefix = NetworkPrefix(text) else {
                throw ConfigurationError(
                    key: "allow_networks[\(index)]", "\"\(text)\" is not a network such as \"127.0.0.0/8\"")
            }
            allowedNetworks.append(prefix)
        }
        if try table.bool("allow_loopback_nodes") == true { allowedNetworks += Self.loopbackNetworks }
        if let plain = try table.bool("allow_plain_http_nodes") { allowPlainHTTPNodes = plain }
        if let log = try table.string("access_log") { accessLog = log }
        if let value = try table.int("max_header_bytes", min: 1024, max: 1_048_576) { maxHeaderBytes = value }
        if let value = try table.int("max_body_bytes", min: 0, max: 1 << 30) { maxBodyBytes = value }
        if let value = try table.duration("tls_reload_interval", positive: true) { tlsReloadInterval = value }
        if let value = try table.duration("connect_timeout", positive: true) { connectTimeout = value }
        if let value = try table.duration("upstream_timeout", positive: true) { upstreamTimeout = value }
        if let value = try table.duration("idle_timeout", positive: true) { limits.idleTimeout = value }
        if let value = try table.duration("body_timeout", positive: true) { limits.bodyTimeout = value }
        if let value = try table.duration("tls_handshake_timeout", positive: true) { limits.tlsHandshakeTimeout = value }
        if let value = try table.int("resolver_threads", min: 1, max: 64) { resolverThreads = value }
        if let value = try table.int("node_idle_connections", min: 0, max: 10_000) { nodeIdleConnections = value }
        if let value = try table.int("node_idle_connections_total", min: 0, max: 1_000_000) {
            nodeIdleConnectionsTotal = value
        }
        if let value = try table.duration("node_idle_timeout", positive: true) { nodeIdleTimeout = value }
        if let value = try table.int("max_connections", min: 1, max: 1_000_000) { limits.maxConnections = value }
        if let value = try table.int("max_connections_per_client", min: 1, max: 1_000_000) {
            limits.maxConnectionsPerClient = value
        }
    }

    mutating func setListen(_ text: String, key: String) throws(ConfigurationError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { throw ConfigurationError(key: key, "\"\(text)\" is not HOST:PORT") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard NetworkPrefix.parse(host) != nil else {
            throw ConfigurationError(key: key, "\"\(host)\" is not an IP address")
        }
        listenHost = host
        listenPort = port
    }

    mutating func setDomain(_ text: String, key: String) throws(ConfigurationError) {
        var domain = text.lowercased()
        if domain.hasSuffix(".") { domain.removeLast() }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2,
            labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } })
        else { throw ConfigurationError(key: key, "\"\(text)\" is not a domain name such as 1bz.example.net") }
        self.domain = domain
    }

    mutating func setResolver(_ text: String, key: String) throws(ConfigurationError) {
        let parts = text.split(separator: "@")
        guard parts.count == 2, NetworkPrefix.parse(String(parts[0])) != nil, let port = Int(parts[1]), (1...65535).contains(port)
        else { throw ConfigurationError(key: key, "\"\(text)\" is not ADDRESS@PORT (e.g. 127.0.0.1@5353)") }
        resolver = text
    }

    /// Checks what must be set, and that the files exist.
    func validate() throws(ConfigurationError) {
        guard !domain.isEmpty else { throw ConfigurationError(key: "domain", "is required (--domain)") }
        guard !resolver.isEmpty else { throw ConfigurationError(key: "resolver", "is required (--resolver)") }
        guard !trustAnchorFile.isEmpty else {
            throw ConfigurationError(key: "trust_anchor", "is required (--trust-anchor): the DS or DNSKEY of 1bz.")
        }
        guard FileManager.default.isReadableFile(atPath: trustAnchorFile) else {
            throw ConfigurationError(key: "trust_anchor", "cannot read \(trustAnchorFile)")
        }
    }
}
