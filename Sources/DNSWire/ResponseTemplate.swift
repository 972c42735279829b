/// RFC 8914 4: the Extended DNS Error info-codes onebzd sends.
public enum ExtendedDNSError {
    public static let other: UInt16 = 0
    public static let staleAnswer: UInt16 = 3
    public static let noReachableAuthority: UInt16 = 22
    /// RFC 8914 2: the EDNS option code.
    public static let optionCode: UInt16 = 15
}

/// A response planned and rendered ahead of time (NSD style): everything after the
/// question, with compression pointers that assume the question name sits at offset 12.
/// Serving it means copying the request's header and question (ID, RD, 0x20 case),
/// then these bytes, then patching counts and flags.
public struct ResponseTemplate: Sendable {
    // Stored widest first, the two flags in one byte: 32 bytes (48 in declaration order
    // with two Bools), and every cached answer holds one or two
    // (docs/performance.md#memory-at-1m-issue-23).
    /// Answer, authority and additional sections in wire form.
    public let tail: [UInt8]
    /// Where the additional section starts in `tail`.
    public let additionalStart: Int
    /// How long the answer may be cached, computed once when it is rendered (RFC 8484
    /// 5.1: the smallest TTL of the answer section; negative answers carry the SOA with
    /// TTL = min(SOA TTL, MINIMUM), RFC 2308 5; referrals the NS set and glue). 0 when
    /// there are no records (REFUSED, SERVFAIL).
    public let cacheTTL: UInt32
    public let rcode: Rcode
    public let answerCount: UInt16
    public let authorityCount: UInt16
    public let additionalCount: UInt16
    /// An Extended DNS Error (RFC 8914) info-code the answer carries in its OPT when the
    /// query had EDNS: 3 stale answer, 22 no reachable authority, 0 other (signing).
    public var extendedError: UInt16? = nil
    /// Bit 0: authoritative; bit 1: additional optional.
    private let flags: UInt8

    public var authoritative: Bool { flags & 1 != 0 }
    /// Whether the additional section may be dropped to fit (answer glue is optional;
    /// referral glue is required, RFC 9471, so a referral that does not fit gets TC=1).
    public var additionalOptional: Bool { flags & 2 != 0 }

    /// Renders the sections for a question named `questionName` (the canonical form of
    /// the name the template will answer). With `questionName` nil, nothing points into
    /// the question and names are written in full, so the bytes fit any question.
    public init(
        rcode: Rcode = .noError, authoritative: Bool, questionName: Name?,
        answers: [ResourceRecord] = [], authorities: [ResourceRecord] = [],
        additionals: [ResourceRecord] = [], additionalOptional: Bool = true
    ) {
        var encoder: MessageEncoder
        if let questionName {
            encoder = MessageEncoder(base: 12 + questionName.wire.count + 4)
            encoder.register(questionName, at: 12)
        } else {
            encoder = MessageEncoder(base: 0, compress: false)
        }
        for record in answers { encoder.write(record: record) }
        for record in authorities { encoder.write(record: record) }
        additionalStart = encoder.bytes.count
        for record in additionals { encoder.write(record: record) }
        self.rcode = rcode
        flags = (authoritative ? 1 : 0) | (additionalOptional ? 2 : 0)
        answerCount = UInt16(answers.count)
        authorityCount = UInt16(authorities.count)
        additionalCount = UInt16(additionals.count)
        // Copied to its exact size: the encoder reserves 512 bytes, and a template
        // lives as long as its zone or cache entry.
        tail = [UInt8](unsafeUninitializedCapacity: encoder.bytes.count) { buffer, count in
            count = buffer.initialize(fromContentsOf: encoder.bytes)
        }
        let bounding = answers.isEmpty ? authorities + additionals : answers
        cacheTTL = bounding.lazy.map(\.ttl).min() ?? 0
    }

    /// The same answer carrying the Extended DNS Error `code`.
    public func with(extendedError code: UInt16) -> ResponseTemplate {
        var copy = self
        copy.extendedError = code
        return copy
    }
}
