#if canImport(Glibc)
    import Glibc
#endif

extension QueryEngine {
    /// The context of a request from `client` now, for transports without a clock of
    /// their own (TCP, DoH): empty unless cookies are on, so the clock is not read for
    /// nothing.
    public func context(for client: ClientAddress?) -> QueryContext {
        guard configuration.cookies != nil else { return .none }
        return QueryContext(client: client, unixTime: UInt32(truncatingIfNeeded: time(nil)))
    }
}
