/// What protects the connection a request arrived on, for the transfer ACL (RFC 9103:
/// an allow entry can require TLS, and pin the client's certificate key).
public enum ChannelSecurity: Sendable, Equatable {
    /// UDP or plain TCP.
    case none
    /// DNS over TLS; `clientKeySHA256`: the SHA-256 of the client certificate's DER
    /// SubjectPublicKeyInfo when the client presented one (mutual TLS).
    case tls(clientKeySHA256: [UInt8]?)

    public var isTLS: Bool {
        if case .tls = self { return true }
        return false
    }

    public var clientKeySHA256: [UInt8]? {
        if case .tls(let key) = self { return key }
        return nil
    }
}
