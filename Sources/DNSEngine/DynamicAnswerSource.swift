import DNSWire

/// Where names under the apex that the static zone does not hold get their answers
/// (chain-registered nodes). The engine asks `cachedAnswer` on the hot path; on a miss
/// it returns `Disposition.lookup`, the transport awaits `resolve` (through
/// `QueryEngine.respond(...resolving:)`) and the engine answers with the result.
///
/// The source says what the answer is (records, NODATA, NXDOMAIN, SERVFAIL); the engine
/// renders negatives with the SOA of the zone it serves at that moment, so a cached
/// negative never carries an old serial and the source needs no engine of its own.
///
/// Which names are dynamic: one label below the apex, or one label below `id.`, not a
/// node of the static zone and not below a delegation
/// (docs/design.md#static-names-win).
public protocol DynamicAnswerSource: Sendable {
    /// Non-blocking cache lookup for the query name as wire bytes (uncompressed,
    /// validated, any case) straight from the request: nil on a miss. The hot path:
    /// implement it without allocating.
    func cachedAnswer(wire qname: UnsafeRawBufferPointer, type: RRType) -> DynamicAnswer?
    /// The slow path (chain, registry). Never `.nameError` because a backend failed:
    /// `.serverFailure` (or an answer from stale data) instead.
    func resolve(name: Name, type: RRType) async -> DynamicAnswer
}

extension DynamicAnswerSource {
    /// The cache lookup for a parsed name (tests and tools).
    public func cachedAnswer(name: Name, type: RRType) -> DynamicAnswer? {
        name.wire.withUnsafeBytes { cachedAnswer(wire: $0, type: type) }
    }
}

/// What a dynamic name answers, as the source decided it. Answers from stale data
/// (RFC 8767) are ordinary answers with the stale TTL: nothing on the wire tells them
/// apart, so they need no case of their own.
public enum DynamicAnswer: Sendable {
    /// Records of the asked type, pre-rendered for the name in lowercase (a
    /// `ResponseTemplate` with `questionName` set): authoritative, NOERROR.
    case records(ResponseTemplate)
    /// The name exists, with no records of the asked type: NOERROR, SOA in authority.
    case noData
    /// The name does not exist: NXDOMAIN, SOA in authority.
    case nameError
    /// An upstream failed and nothing stale was available.
    case serverFailure
    /// DNSSEC on: the records as DO=0 gets them (byte for byte `.records`) and with
    /// their RRSIGs for DO=1, both rendered (and signed) once, when the answer is cached.
    case signedRecords(ResponseTemplate, signed: ResponseTemplate)
    /// DNSSEC on: NODATA with the name's compact denial (NSEC: the types that exist).
    case signedNoData(SignedDenial)
    /// DNSSEC on: a nonexistent name with its compact denial (NSEC: NXNAME).
    case signedNameError(SignedDenial)

    /// `records` for a non-empty set, else `.noData`.
    public static func records(name: Name, _ records: [ResourceRecord]) -> DynamicAnswer {
        guard !records.isEmpty else { return .noData }
        return .records(ResponseTemplate(authoritative: true, questionName: name.lowercased, answers: records))
    }

    /// The same answer with an Extended DNS Error (RFC 8914) on its records (e.g. 3,
    /// stale answer); negatives and failures are returned unchanged.
    public func with(extendedError code: UInt16) -> DynamicAnswer {
        switch self {
        case .records(let template): .records(template.with(extendedError: code))
        case .signedRecords(let template, let signed):
            .signedRecords(template.with(extendedError: code), signed: signed.with(extendedError: code))
        default: self
        }
    }

    /// Bytes a cache holds for it (the rendered sections).
    public var cost: Int {
        switch self {
        case .records(let template): template.tail.count
        case .signedRecords(let template, let signed): template.tail.count + signed.tail.count
        case .signedNoData(let denial), .signedNameError(let denial): denial.tail.count
        case .noData, .nameError, .serverFailure: 0
        }
    }
}

/// The name and type a transport must resolve asynchronously before answering.
public struct PendingLookup: Sendable, Hashable {
    public let name: Name
    public let type: RRType

    public init(name: Name, type: RRType) {
        self.name = name
        self.type = type
    }
}
