import DNSWire

/// How long an HTTP cache may keep a DNS answer (RFC 8484 5.1: no longer than the
/// smallest TTL in the answer). Negative answers follow RFC 2308 5: the SOA's TTL,
/// capped by its MINIMUM field. Answers without records (REFUSED, SERVFAIL) get 0.
enum CacheLifetime {
    static func seconds(for message: Message) -> UInt32 {
        if !message.answers.isEmpty {
            return message.answers.map(\.ttl).min() ?? 0
        }
        if let soa = message.authorities.first(where: { $0.type == .soa }) {
            return min(soa.ttl, soaMinimum(soa.rdata) ?? 0)
        }
        // Referrals: the delegation NS set (and its glue) bounds the lifetime.
        let records = message.authorities + message.additionals
        return records.map(\.ttl).min() ?? 0
    }

    /// The last 32-bit field of SOA RDATA (names are uncompressed after decoding).
    private static func soaMinimum(_ rdata: [UInt8]) -> UInt32? {
        guard rdata.count >= 20 else { return nil }
        return rdata.suffix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
}
