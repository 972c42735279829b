import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

extension QueryEngine {
    /// The context of a request from `peer` now, for transports without a clock of
    /// their own (TCP, DoH): empty unless cookies are on, so nothing is read for
    /// nothing.
    public func context(for peer: SocketAddress?) -> QueryContext {
        guard configuration.cookies != nil else { return .none }
        return QueryContext(client: peer.flatMap(ClientAddress.init), unixTime: UInt32(truncatingIfNeeded: time(nil)))
    }
}
