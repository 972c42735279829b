import DNSWire

extension QueryEngine {
    /// RFC 2308 5: the TTL of a negative answer, the lesser of the SOA's TTL and its
    /// MINIMUM field. Dynamic negative entries are cached this long.
    public var negativeTTL: UInt32 { prepared.planner.negativeSOA.ttl }
}
