import DNSWire

/// Where names under the apex that the static zone does not hold get their answers
/// (chain-registered nodes, a later issue). The engine asks `cachedAnswer` on the hot
/// path; on `.miss` it returns `QueryDisposition.lookup`, the transport awaits `resolve`
/// and calls the engine again with the result (`respond(to:transport:allocator:resolved:)`).
///
/// Which names are dynamic: exactly one label below the apex, not a node of the static
/// zone and not below a delegation (DESIGN.md: static names win).
public protocol DynamicAnswerSource: Sendable {
    /// Non-blocking cache lookup. `name` is as asked (any case); compare case-insensitively.
    func cachedAnswer(name: Name, type: RRType) -> DynamicLookupResult
    /// The same lookup, for the query name as wire bytes (uncompressed, validated, any
    /// case) straight from the request. The engine calls this one; implement it to keep
    /// the hot path free of allocations (the default builds a `Name`).
    func cachedAnswer(wire qname: UnsafeRawBufferPointer, type: RRType) -> DynamicLookupResult
    /// The slow path (chain, registry). Never NXDOMAIN because a backend failed:
    /// return `DynamicAnswer.serverFailure` instead.
    func resolve(name: Name, type: RRType) async -> DynamicAnswer
}

extension DynamicAnswerSource {
    public func cachedAnswer(wire qname: UnsafeRawBufferPointer, type: RRType) -> DynamicLookupResult {
        cachedAnswer(name: Name(uncheckedWire: Array(qname)), type: type)
    }
}

public enum DynamicLookupResult: Sendable {
    case hit(DynamicAnswer)
    case miss
}

/// A pre-rendered answer for one dynamic name and type. Build it with the factory
/// methods on `QueryEngine` (they know the zone's SOA for negatives), or from a
/// `ResponseTemplate` rendered for the name in lowercase.
public struct DynamicAnswer: Sendable {
    public let template: ResponseTemplate

    public init(template: ResponseTemplate) { self.template = template }

    /// SERVFAIL: a backend failed and nothing stale was available.
    public static let serverFailure = DynamicAnswer(
        template: ResponseTemplate(rcode: .servFail, authoritative: false, questionName: nil))
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
