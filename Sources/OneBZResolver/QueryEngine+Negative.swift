import DNSWire

extension QueryEngine {
    /// RFC 2308 5: the TTL of a negative answer, the lesser of the SOA's TTL and its
    /// MINIMUM field. Dynamic negative entries are cached this long.
    public var negativeTTL: UInt32 {
        let soa = zone.soa
        guard soa.rdata.count >= 4 else { return soa.ttl }
        let minimum = soa.rdata.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return min(soa.ttl, minimum)
    }
}
