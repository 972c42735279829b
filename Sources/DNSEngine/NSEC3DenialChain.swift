import Atomics
import DNSSEC
import DNSWire

/// `[dnssec] denial = "nsec3"`: the signed NSEC3 chain of the zone as the engine reads
/// it for its negative answers (docs/dnssec.md#two-kinds-of-denial-and-why). The
/// maintainer publishes a new snapshot after each applied difference (`publish`);
/// queries load the current one without a lock (RCU, docs/design.md "Readers never
/// wait") and copy its pre-signed records: nothing is signed or cached per name.
///
/// Until a chain is published (cold start, restore, no active key) or when the one
/// published does not fit the answer (a name registered a moment before its NSEC3),
/// the engine falls back to compact denial and calls `onFallback` (a metric).
package final class NSEC3DenialChain: Sendable {
    /// One published version (a class so the atomic swaps a reference).
    final class Snapshot: AtomicReference, Sendable {
        let zone: NSEC3SignedZone
        init(_ zone: NSEC3SignedZone) { self.zone = zone }
    }

    private let current = ManagedAtomic<Snapshot?>(nil)
    private let onFallback: @Sendable () -> Void

    package init(onFallback: @escaping @Sendable () -> Void = {}) { self.onFallback = onFallback }

    /// Serves `zone`'s chain from the next query on (nil: none, compact denial meanwhile).
    package func publish(_ zone: NSEC3SignedZone?) {
        current.store(zone.map(Snapshot.init), ordering: .releasing)
    }

    /// The chain served now (nil: none published).
    package var zone: NSEC3SignedZone? { current.load(ordering: .acquiring)?.zone }

    /// RFC 5155 7.2.2 for `qname` (wire bytes of a name below the apex), or nil (fall back).
    func nameError(_ qname: UnsafeRawBufferPointer) -> SignedDenial? {
        guard let zone else { return fallback() }
        guard let proof = zone.nameErrorProof(for: Name(uncheckedWire: Array(qname))) else { return fallback() }
        return SignedDenial(tail: proof.bytes, count: proof.count)
    }

    /// RFC 5155 7.2.3 for `owner`, which exists without `type`, or nil (fall back).
    func noData(_ owner: Name, type: RRType) -> SignedDenial? {
        guard let zone else { return fallback() }
        guard let proof = zone.noDataProof(for: owner.lowercased, type: type) else { return fallback() }
        return SignedDenial(tail: proof.bytes, count: proof.count)
    }

    private func fallback() -> SignedDenial? {
        onFallback()
        return nil
    }
}
