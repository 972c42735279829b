import DNSEngine
import DNSWire

/// One cached node name: what the upstreams said (the facts: for rendering, the JSON
/// gateway and stale serving) and the answers rendered from them so far, one per query
/// type asked. One cache entry per name, so the entry, its key, tags and index slots
/// are paid once, not once for the facts and again for every type.
///
/// Immutable (readers share it without locks): adding an answer makes a new value that
/// the cache swaps in (``AnswerCache/update(_:now:_:)``).
package final class CachedNode: Sendable {
    // The answers first: a hit then reads only the object's first cache line.
    private let answers: Answers
    package let outcome: NodeLookupOutcome

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
        self.init(outcome, answers: .none)
    }

    private init(_ outcome: NodeLookupOutcome, answers: Answers) {
        self.outcome = outcome
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
        return CachedNode(outcome, answers: others.isEmpty ? .one(added) : .many(others + [added]))
    }

    /// What the cache's byte bound counts: a flat estimate for the facts and the entry,
    /// plus each answer's bytes.
    package var cost: Int {
        answers.all.reduce(256) { $0 + 64 + $1.answer.cost }
    }
}

