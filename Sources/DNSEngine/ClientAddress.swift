import NIOCore

/// A client's IP address as plain bytes (4 for IPv4, 16 for IPv6), held inline: what
/// server cookies are bound to (RFC 9018 4) and what rate limiting counts by. Built by
/// the transports from whatever address type their sockets give; the engine never
/// sees a socket.
public struct ClientAddress: Sendable, Hashable {
    /// 4 or 16.
    public let count: Int
    /// The address bytes in network order, then zero padding.
    private let words: (UInt64, UInt64)

    /// `bytes` must hold 4 (IPv4) or 16 (IPv6) bytes; nil otherwise. An IPv4-mapped
    /// IPv6 address (`::ffff:a.b.c.d`, RFC 4291 2.5.5.2, what a `[::]` socket without
    /// IPV6_V6ONLY reports for IPv4 clients) becomes the IPv4 address, so rate limits,
    /// ACL prefixes and cookies classify the client as the IPv4 client it is.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        let raw = Self.isIPv4Mapped(bytes) ? UnsafeRawBufferPointer(rebasing: bytes[12..<16]) : bytes
        var words: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: raw) }
        self.count = raw.count
        self.words = words
    }

    /// `::ffff:0:0/96`.
    @inline(__always)
    static func isIPv4Mapped(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == 16, bytes[10] == 0xFF, bytes[11] == 0xFF else { return false }
        for index in 0..<10 where bytes[index] != 0 { return false }
        return true
    }

    public init?(_ bytes: [UInt8]) {
        guard let address = bytes.withUnsafeBytes({ ClientAddress(bytes: $0) }) else { return nil }
        self = address
    }

    /// The IP of a NIO socket address; nil for Unix domain sockets.
    public init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4):
            var raw = v4.address.sin_addr
            guard let made = withUnsafeBytes(of: &raw, { ClientAddress(bytes: $0) }) else { return nil }
            self = made
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            guard let made = withUnsafeBytes(of: &raw, { ClientAddress(bytes: $0) }) else { return nil }
            self = made
        case .unixDomainSocket:
            return nil
        }
    }

    public var isIPv4: Bool { count == 4 }

    /// The `count` address bytes.
    @inline(__always)
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        withUnsafeBytes(of: words) { body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    public var bytes: [UInt8] { withBytes { Array($0) } }

    public static func == (lhs: ClientAddress, rhs: ClientAddress) -> Bool {
        lhs.count == rhs.count && lhs.words == rhs.words
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        hasher.combine(words.0)
        hasher.combine(words.1)
    }
}

/// What the engine knows about a request besides its bytes, passed in by the transport
/// (the engine has no clock and no sockets).
public struct QueryContext: Sendable {
    /// The client's address; nil when unknown (a server cookie is then bound to no
    /// address, and rate limiting does not apply).
    public var client: ClientAddress?
    /// Unix time in seconds: the timestamp of server cookies (RFC 9018 4.3).
    public var unixTime: UInt32

    public init(client: ClientAddress?, unixTime: UInt32) {
        self.client = client
        self.unixTime = unixTime
    }

    /// No client, time zero: for tests and tools that run without cookies.
    public static let none = QueryContext(client: nil, unixTime: 0)
}
