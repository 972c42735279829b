import NIOCore

/// DNS over TLS (RFC 7858) and zone transfers over TLS (RFC 9103) on their own
/// addresses: the TLS handler in front of the same TCP pipeline plain TCP uses.
public struct DoTConfiguration: Sendable {
    public var listen: [SocketAddress]
    public var context: DoTContext
    /// RFC 7858 3.4 / RFC 7766 6.2.3: close connections idle this long (longer than
    /// plain TCP's: a TLS connection is worth keeping for the handshakes it saves).
    public var idleTimeout: TimeAmount = .seconds(30)
    /// The handshake must finish within this of the connection opening.
    public var handshakeTimeout: TimeAmount = .seconds(5)
    /// Connections open at once on each listener, and per client (IPv4 address, IPv6 /64).
    public var maxConnections = 1024
    public var maxConnectionsPerClient = 64
    /// Handshakes in progress at once on each listener (each costs a key exchange): a
    /// flood of ClientHellos is refused past it instead of taking every core.
    public var maxHandshakes = 128
    /// Ask clients for a certificate (accepted whatever signs it: the transfer ACL's
    /// `client_spki_sha256` pin decides what it is good for). Set when an allow entry pins one.
    public var requestClientCertificate = false

    public init(listen: [SocketAddress], context: DoTContext) {
        self.listen = listen
        self.context = context
    }
}
