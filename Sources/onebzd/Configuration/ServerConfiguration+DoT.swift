import TOMLConfiguration

extension ServerConfiguration {
    /// `[dot]`: DNS over TLS (RFC 7858) and zone transfers over TLS (RFC 9103) on their
    /// own addresses. docs/configuration.md, docs/dns.md.
    package struct DoT: Sendable, Equatable {
        /// `listen`: HOST:PORT addresses (a bare host means port 853).
        package var listen: [HostPort] = []
        package var certFile = ""
        package var keyFile = ""
        package var idleTimeout: Duration = .seconds(30)
        package var handshakeTimeout: Duration = .seconds(5)
        package var maxConnections = 1024
        package var maxConnectionsPerClient = 64
        package var maxHandshakes = 128

        package init() {}
    }

    static func dot(_ t: TableReader) throws(ConfigurationError) -> DoT {
        try t.onlyKeys([
            "listen", "cert_file", "key_file", "idle_timeout", "handshake_timeout", "max_connections",
            "max_connections_per_client", "max_handshakes",
        ])
        var dot = DoT()
        guard let addresses = try t.strings("listen"), !addresses.isEmpty else {
            throw ConfigurationError(key: t.key("listen"), "is required in [dot] (e.g. \"0.0.0.0:853\")")
        }
        for (index, text) in addresses.enumerated() {
            dot.listen.append(try dotAddress(text, key: "\(t.key("listen"))[\(index)]"))
        }
        dot.certFile = try t.required(t.string("cert_file"), "cert_file")
        dot.keyFile = try t.required(t.string("key_file"), "key_file")
        for (name, path) in [("idle_timeout", \DoT.idleTimeout), ("handshake_timeout", \.handshakeTimeout)]
            as [(String, WritableKeyPath<DoT, Duration>)]
        {
            guard let value = try t.duration(name) else { continue }
            guard value > .zero else { throw ConfigurationError(key: t.key(name), "must be longer than 0") }
            dot[keyPath: path] = value
        }
        if let v = try t.int("max_connections", min: 1) { dot.maxConnections = v }
        if let v = try t.int("max_connections_per_client", min: 1) { dot.maxConnectionsPerClient = v }
        if let v = try t.int("max_handshakes", min: 1) { dot.maxHandshakes = v }
        return dot
    }

    /// `HOST:PORT`, `[V6]:PORT`, or a bare IPv4 address / `[V6]` (port 853, RFC 7858 3.1).
    package static func dotAddress(_ text: String, key: String) throws(ConfigurationError) -> HostPort {
        let bare = text.hasPrefix("[") ? text.hasSuffix("]") : !text.contains(":")
        do { return try HostPort(parsing: bare ? "\(text):853" : text) } catch {
            throw ConfigurationError(key: key, error.problem)
        }
    }
}
