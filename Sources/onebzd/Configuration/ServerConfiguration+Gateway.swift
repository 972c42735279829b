import HTTPGateway
import HTTPServerGuard
import TOMLConfiguration

extension ServerConfiguration {
    /// `[gateway]`: the HTTP server's timeouts and connection caps (issue 21) and the
    /// per-client rate of `/resolve`. docs/configuration.md.
    static func gateway(_ t: TableReader) throws(ConfigurationError) -> GatewaySettings {
        try t.onlyKeys([
            "idle_timeout", "body_timeout", "tls_handshake_timeout", "max_connections", "max_connections_per_client",
            "resolve_rate", "resolve_burst",
        ])
        var settings = GatewaySettings()
        for (name, path) in [
            ("idle_timeout", \GatewaySettings.server.idleTimeout), ("body_timeout", \.server.bodyTimeout),
            ("tls_handshake_timeout", \.server.tlsHandshakeTimeout),
        ] as [(String, WritableKeyPath<GatewaySettings, Duration>)] {
            guard let value = try t.duration(name) else { continue }
            guard value > .zero else { throw ConfigurationError(key: t.key(name), "must be longer than 0") }
            settings[keyPath: path] = value
        }
        if let v = try t.int("max_connections", min: 1) { settings.server.maxConnections = v }
        if let v = try t.int("max_connections_per_client", min: 1) { settings.server.maxConnectionsPerClient = v }
        if let v = try t.int("resolve_rate", min: 0, max: 1_000_000) { settings.resolveRate = Double(v) }
        if let v = try t.int("resolve_burst", min: 1, max: 1_000_000) { settings.resolveBurst = Double(v) }
        return settings
    }
}
