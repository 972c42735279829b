import DNSEngine
import DNSWire

/// One cached node name: what its answers were rendered from (the upstreams' facts, for
/// rendering, the JSON gateway and stale serving; or the materialised zone's records,
/// named only by a fingerprint, so a zone-held name's records are not held twice) and
/// the answers rendered so far, one per query type asked. One cache entry per name, so
/// the entry, its key, tags and index slots are paid once, not once for the facts and
/// again for every type.
///
/// Immutable (readers share it without locks): adding an answer makes a new value that
/// the cache swaps in (``AnswerCache/update(_:now:_:)``).
package final class CachedNode: Sendable {
    // The answers first: a hit then reads only the object's first cache line.
    private let answers: Answers
    package let origin: Origin

    /// Where the answers come from.
    package enum Origin: Sendable, Equatable {
        /// What an upstream lookup said (boxed: a zone entry does not pay for its size).
        indirect case facts(NodeLookupOutcome)
        /// The materialised zone's records for the node, as `MaterializedZone.heldPayload`
        /// fingerprinted them: answers are rendered from the zone again, never from here.
        case zone(fingerprint: UInt64)
    }

    /// The facts, when the answers were rendered from an upstream lookup.
    package var outcome: NodeLookupOutcome? {
        if case .facts(let outcome) = origin { return outcome }
        return nil
    }

    private struct Rendered: Sendable {
        /// Monotonic nanoseconds; an answer rendered from stale facts (RFC 8767) lives
        /// only the stale TTL, so answers carry their own expiry.
        let expires: UInt64
        let answer: DynamicAnswer
        // Last, after the answer: small fields.
        let type: RRType
        /// The name below the node name the answer is for (`.node`: the name itself).
        let subname: NodeSubname

        /// Whether it is the answer for `type` at `subname`.
        @inline(__always)
        func isFor(_ type: RRType, _ subname: NodeSubname) -> Bool { self.type == type && self.subname == subname }
    }

    /// Few (A, AAAA, TXT, ...), so a linear search; most names are asked one type, so
    /// the first answer is inline, without an array.
    private enum Answers: Sendable {
        case none
        case one(Rendered)
        case many([Rendered])

        var all: [Rendered] {
            switch self {
            case .none: []
            case .one(let rendered): [rendered]
            case .many(let answers): answers
            }
        }
    }

    package convenience init(_ outcome: NodeLookupOutcome) {
        self.init(.facts(outcome), answers: .none)
    }

    package convenience init(_ origin: Origin) {
        self.init(origin, answers: .none)
    }

    private init(_ origin: Origin, answers: Answers) {
        self.origin = origin
        self.answers = answers
    }

    /// The answer for `type` at `subname`, if one was rendered and is within its TTL at
    /// `now`.
    @inline(__always)
    package func answer(for type: RRType, at subname: NodeSubname = .node, now: UInt64) -> DynamicAnswer? {
        switch answers {
        case .none: return nil
        case .one(let rendered): return rendered.isFor(type, subname) && now < rendered.expires ? rendered.answer : nil
        case .many(let answers):
            for rendered in answers where rendered.isFor(type, subname) {
                return now < rendered.expires ? rendered.answer : nil
            }
            return nil
        }
    }

    /// A copy holding `answer` for `type` at `subname` (replacing an older one) until
    /// `expires`.
    package func adding(
        _ answer: DynamicAnswer, for type: RRType, at subname: NodeSubname = .node, expires: UInt64
    ) -> CachedNode {
        let added = Rendered(expires: expires, answer: answer, type: type, subname: subname)
        let others = answers.all.filter { !$0.isFor(type, subname) }
        return CachedNode(origin, answers: others.isEmpty ? .one(added) : .many(others + [added]))
    }

    /// What the cache's byte bound counts: a flat estimate for the entry and the facts,
    /// plus each answer's bytes. A zone-rendered entry (no facts) is 280: the heap it
    /// takes, measured (`aCachedZoneAnswerCostsItsEntryOnly`: the cache's entry, this
    /// object, the shard slot, CLOCK queue and tag index, ~340 B with a NODATA answer).
    package var cost: Int {
        let base = if case .facts = origin { 256 } else { 280 }
        return answers.all.reduce(base) { $0 + 64 + $1.answer.cost }
    }
}

