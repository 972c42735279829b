/// Limits of an HTTP server facing the internet (the gateway, the registry): how long a
/// connection may take to say something, and how many connections may be open, in all
/// and per client. docs/configuration.md (`[gateway]`) and docs/registry.md (flags).
public struct HTTPServerLimits: Sendable, Equatable {
    /// A connection that has not sent complete request headers this long after it opened
    /// (or after its last response) is closed: the header timeout against slowloris, and
    /// the keep-alive idle timeout. Hummingbird's `idleTimeout`.
    public var idleTimeout: Duration = .seconds(15)
    /// A request's body must arrive whole within this of its headers.
    public var bodyTimeout: Duration = .seconds(10)
    /// HTTPS: the TLS handshake must be done within this of the connection opening.
    public var tlsHandshakeTimeout: Duration = .seconds(10)
    /// Connections open at once; past it a new one is closed at once.
    public var maxConnections: Int = 1024
    /// Connections open at once from one client (an IPv4 address, an IPv6 /64).
    public var maxConnectionsPerClient: Int = 32

    public init() {}
}
