import DNSWire

/// One cached node name: what the upstreams said (the facts: for rendering, the JSON
/// gateway and stale serving) and the answers rendered from them so far, one per query
/// type asked. One cache entry per name, so the entry, its key, tags and index slots
/// are paid once, not once for the facts and again for every type.
///
/// Immutable (readers share it without locks): adding an answer makes a new value that
/// the cache swaps in (``AnswerCache/update(_:now:_:)``).
package final class CachedNode: Sendable {
    package let outcome: NodeLookupOutcome
    /// Few (A, AAAA, TXT, ...): a linear search beats hashing.
    private let answers: [Rendered]

    private struct Rendered: Sendable {
        let type: RRType
        /// Monotonic nanoseconds; an answer rendered from stale facts (RFC 8767) lives
        /// only the stale TTL, so answers carry their own expiry.
        let expires: UInt64
        let answer: DynamicAnswer
    }

    package convenience init(_ outcome: NodeLookupOutcome) {
        self.init(outcome, answers: [])
    }

    private init(_ outcome: NodeLookupOutcome, answers: [Rendered]) {
        self.outcome = outcome
        self.answers = answers
    }

    /// The answer for `type`, if one was rendered and is within its TTL at `now`.
    @inline(__always)
    package func answer(for type: RRType, now: UInt64) -> DynamicAnswer? {
        for rendered in answers where rendered.type == type {
            return now < rendered.expires ? rendered.answer : nil
        }
        return nil
    }

    /// A copy holding `answer` for `type` (replacing an older one) until `expires`.
    package func adding(_ answer: DynamicAnswer, for type: RRType, expires: UInt64) -> CachedNode {
        var answers = answers.filter { $0.type != type }
        answers.append(Rendered(type: type, expires: expires, answer: answer))
        return CachedNode(outcome, answers: answers)
    }

    /// What the cache's byte bound counts: a flat estimate for the facts and the entry,
    /// plus each answer's bytes.
    package var cost: Int {
        answers.reduce(256) { $0 + 64 + $1.answer.template.tail.count }
    }
}
