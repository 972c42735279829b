import Foundation
import HTTPServerGuard
import TOMLKit

/// A configuration value that cannot be used; `key` is the TOML key (or flag) at fault.
struct ConfigurationError: Error, CustomStringConvertible {
    let key: String
    let problem: String

    var description: String { "configuration: \(key): \(problem)" }
}

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
            throw ConfigurationError(key: "--config", problem: "cannot read \(path): \(error.localizedDescription)")
        }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch {
            throw ConfigurationError(key: "--config", problem: "\(path) is not valid TOML: \(error)")
        }
        for key in table.keys.sorted() where !Self.keys.contains(key) {
            throw ConfigurationError(key: key, problem: "unknown key (expected one of: \(Self.keys.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws(ConfigurationError) -> String? {
            guard let value = table[key] else { return nil }
            guard let text = value.string else { throw ConfigurationError(key: key, problem: "must be a string") }
            return text
        }
        func bool(_ key: String) throws(ConfigurationError) -> Bool? {
            guard let value = table[key] else { return nil }
            guard let flag = value.bool else { throw ConfigurationError(key: key, problem: "must be true or false") }
            return flag
        }
        func int(_ key: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
            guard let value = table[key] else { return nil }
            guard let number = value.int, range.contains(number) else {
                throw ConfigurationError(key: key, problem: "must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        func duration(_ key: String) throws(ConfigurationError) -> Duration? {
            if let seconds = table[key]?.int {
                guard seconds > 0 else { throw ConfigurationError(key: key, problem: "must be positive") }
                return .seconds(seconds)
            }
            return try string(key).map { text throws(ConfigurationError) in try Self.duration(text, key: key) }
        }
        if let listen = try string("listen") { try setListen(listen, key: "listen") }
        if let domain = try string("domain") { try setDomain(domain, key: "domain") }
        if let resolver = try string("resolver") { try setResolver(resolver, key: "resolver") }
        if let anchor = try string("trust_anchor") { trustAnchorFile = anchor }
        let cert = try string("tls_cert")
        let key = try string("tls_key")
        if cert != nil || key != nil {
            guard let cert, let key else {
                throw ConfigurationError(key: cert == nil ? "tls_cert" : "tls_key", problem: "tls_cert and tls_key go together")
            }
            tls = TLSFiles(certificateChain: cert, privateKey: key)
        }
        if let networks = table["allow_networks"] {
            guard let array = networks.array else { throw ConfigurationError(key: "allow_networks", problem: "must be an array of strings") }
            for item in array {
                guard let text = item.string, let prefix = NetworkPrefix(text) else {
                    throw ConfigurationError(key: "allow_networks", problem: "\(item) is not a network such as \"127.0.0.0/8\"")
                }
                allowedNetworks.append(prefix)
            }
        }
        if try bool("allow_loopback_nodes") == true { allowedNetworks += Self.loopbackNetworks }
        if let plain = try bool("allow_plain_http_nodes") { allowPlainHTTPNodes = plain }
        if let log = try string("access_log") { accessLog = log }
        if let value = try int("max_header_bytes", 1024...1_048_576) { maxHeaderBytes = value }
        if let value = try int("max_body_bytes", 0...(1 << 30)) { maxBodyBytes = value }
        if let value = try duration("tls_reload_interval") { tlsReloadInterval = value }
        if let value = try duration("connect_timeout") { connectTimeout = value }
        if let value = try duration("upstream_timeout") { upstreamTimeout = value }
        if let value = try duration("idle_timeout") { limits.idleTimeout = value }
        if let value = try duration("body_timeout") { limits.bodyTimeout = value }
        if let value = try duration("tls_handshake_timeout") { limits.tlsHandshakeTimeout = value }
        if let value = try int("resolver_threads", 1...64) { resolverThreads = value }
        if let value = try int("node_idle_connections", 0...10_000) { nodeIdleConnections = value }
        if let value = try int("node_idle_connections_total", 0...1_000_000) { nodeIdleConnectionsTotal = value }
        if let value = try duration("node_idle_timeout") { nodeIdleTimeout = value }
        if let value = try int("max_connections", 1...1_000_000) { limits.maxConnections = value }
        if let value = try int("max_connections_per_client", 1...1_000_000) { limits.maxConnectionsPerClient = value }
    }

    mutating func setListen(_ text: String, key: String) throws(ConfigurationError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { throw ConfigurationError(key: key, problem: "\"\(text)\" is not HOST:PORT") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard NetworkPrefix.parse(host) != nil else {
            throw ConfigurationError(key: key, problem: "\"\(host)\" is not an IP address")
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
        else { throw ConfigurationError(key: key, problem: "\"\(text)\" is not a domain name such as 1bz.example.net") }
        self.domain = domain
    }

    mutating func setResolver(_ text: String, key: String) throws(ConfigurationError) {
        let parts = text.split(separator: "@")
        guard parts.count == 2, NetworkPrefix.parse(String(parts[0])) != nil, let port = Int(parts[1]), (1...65535).contains(port)
        else { throw ConfigurationError(key: key, problem: "\"\(text)\" is not ADDRESS@PORT (e.g. 127.0.0.1@5353)") }
        resolver = text
    }

    /// Checks what must be set, and that the files exist.
    func validate() throws(ConfigurationError) {
        guard !domain.isEmpty else { throw ConfigurationError(key: "domain", problem: "is required (--domain)") }
        guard !resolver.isEmpty else { throw ConfigurationError(key: "resolver", problem: "is required (--resolver)") }
        guard !trustAnchorFile.isEmpty else {
            throw ConfigurationError(key: "trust_anchor", problem: "is required (--trust-anchor): the DS or DNSKEY of 1bz.")
        }
        guard FileManager.default.isReadableFile(atPath: trustAnchorFile) else {
            throw ConfigurationError(key: "trust_anchor", problem: "cannot read \(trustAnchorFile)")
        }
    }

    /// `500ms`, `5s`, `2m`, `1h`.
    static func duration(_ text: String, key: String) throws(ConfigurationError) -> Duration {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (unit, milliseconds) in units where text.hasSuffix(unit) {
            if let value = Int64(text.dropLast(unit.count)), value > 0 { return .milliseconds(value * milliseconds) }
        }
        throw ConfigurationError(key: key, problem: "\"\(text)\" is not a duration such as \"500ms\", \"30s\" or \"2m\" (or integer seconds)")
    }
}
