import DNSWire
import NIOConcurrencyHelpers

/// Compact denials the engine signed itself (names the static zone denies per name),
/// kept with the signed snapshot that made them: a flood of random names under the
/// zone costs at most one signature per unique name until the cache is full, and the
/// whole cache goes when the zone is re-signed (its signatures' times are the
/// snapshot's). Bounded: past `capacity` it starts over (a flood of unique names then
/// costs one signature per name, as it would without a cache).
final class DenialCache: Sendable {
    private let entries = NIOLockedValueBox<[Name: SignedDenial]>([:])
    let capacity: Int

    init(capacity: Int = 65_536) { self.capacity = capacity }

    func denial(for owner: Name, make: () -> SignedDenial?) -> SignedDenial? {
        if let cached = entries.withLockedValue({ $0[owner] }) { return cached }
        guard let made = make() else { return nil }
        entries.withLockedValue { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[owner] = made
        }
        return made
    }

    var count: Int { entries.withLockedValue { $0.count } }
}
