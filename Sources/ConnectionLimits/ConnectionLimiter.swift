import NIOCore

/// Counts open connections, in all and per client, and decides whether a new one may
/// stay: so a single host cannot take every slot and shut others out (NSD's
/// `tcp-count` is the first cap; unbound's `tcp-connection-limit` the second). Pure:
/// DNS over TCP (`DNSServer`) and the HTTP servers (`HTTPConnectionGuard`) each hold one
/// behind a lock.
///
/// Memory is bounded by `maxConnections`: a client appears in the table only while it
/// has an admitted connection.
public struct ConnectionLimiter: Sendable {
    public enum Decision: Equatable, Sendable {
        case admit
        /// `maxConnections` are open.
        case refuseTotal
        /// This client has `maxConnectionsPerClient` open.
        case refusePerClient
    }

    public let maxConnections: Int
    public let maxConnectionsPerClient: Int
    public private(set) var open = 0
    private var perClient: [ClientKey: Int] = [:]

    public init(maxConnections: Int, maxConnectionsPerClient: Int) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerClient = maxConnectionsPerClient
    }

    /// A connection from `client` opened; `.admit` counts it (release it with `closed`).
    public mutating func opened(_ client: ClientKey?) -> Decision {
        guard open < maxConnections else { return .refuseTotal }
        if let client {
            let count = perClient[client, default: 0]
            guard count < maxConnectionsPerClient else { return .refusePerClient }
            perClient[client] = count + 1
        }
        open += 1
        return .admit
    }

    /// An admitted connection closed.
    public mutating func closed(_ client: ClientKey?) {
        open = max(0, open - 1)
        guard let client, let count = perClient[client] else { return }
        perClient[client] = count > 1 ? count - 1 : nil
    }

    /// Connections open from `client`.
    public func count(_ client: ClientKey) -> Int { perClient[client, default: 0] }

    /// Who a connection counts against: an IPv4 address, or an IPv6 /64 (one host
    /// usually holds a whole /64). IPv4-mapped IPv6 (`::ffff:a.b.c.d`, a `[::]` socket
    /// without IPV6_V6ONLY) counts as the IPv4 address.
    public struct ClientKey: Hashable, Sendable {
        let high: UInt64
        let low: UInt64

        public init?(_ address: SocketAddress?) {
            switch address {
            case .v4(let v4)?:
                high = 4
                low = UInt64(UInt32(bigEndian: v4.address.sin_addr.s_addr))
            case .v6(let v6)?:
                var raw = v6.address.sin6_addr
                let bytes = withUnsafeBytes(of: &raw) { Array($0) }
                if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                    high = 4
                    low = bytes[12..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                } else {
                    high = 6
                    low = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                }
            default:
                return nil
            }
        }
    }
}
