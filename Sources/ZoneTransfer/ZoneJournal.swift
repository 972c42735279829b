import DNSEngine
import DNSWire

/// The materialised zone's history for IXFR (RFC 1995): the changes between its
/// serials, bounded in number and age. Pure: time is an argument.
///
/// Only serials whose content changed are stored: most blocks change nothing, and the
/// content at any serial the zone issued since `oldest` is the content after the last
/// change at or before it. So `differences(since:)` answers a secondary at any such
/// serial: the changes after it, chained, the last one ending at the current serial.
package struct ZoneJournal: Sendable {
    package struct Limits: Sendable, Equatable {
        /// Changes kept (`[transfer] journal_max_versions`).
        package var maxVersions: Int
        /// How long a change is kept (`[transfer] journal_max_age`), in nanoseconds.
        package var maxAgeNanoseconds: UInt64
        /// Records kept in all changes together (memory bound).
        package var maxRecords: Int

        package init(maxVersions: Int = 1000, maxAgeNanoseconds: UInt64 = 86_400 * 1_000_000_000, maxRecords: Int = 1_000_000) {
            self.maxVersions = maxVersions
            self.maxAgeNanoseconds = maxAgeNanoseconds
            self.maxRecords = maxRecords
        }
    }

    package struct Change: Sendable, Equatable {
        /// The first serial with the new content.
        package let serial: UInt32
        package let removed: [ResourceRecord]
        package let added: [ResourceRecord]
        /// Monotonic nanoseconds when it was recorded.
        package let recorded: UInt64
    }

    package let limits: Limits
    package private(set) var changes: [Change] = []
    /// The oldest serial the journal can answer from; nil before the first version.
    package private(set) var oldest: UInt32?
    package private(set) var current: UInt32?
    private var recordCount = 0

    package init(limits: Limits = Limits()) { self.limits = limits }

    /// The zone's first version (or the first after the journal lost track).
    package mutating func start(at serial: UInt32) {
        changes = []
        recordCount = 0
        oldest = serial
        current = serial
    }

    /// A new serial, with what changed since the previous one (maybe nothing).
    package mutating func advance(
        to serial: UInt32, removed: [ResourceRecord], added: [ResourceRecord], now: UInt64
    ) {
        guard current != nil else { return start(at: serial) }
        current = serial
        if !removed.isEmpty || !added.isEmpty {
            changes.append(Change(serial: serial, removed: removed, added: added, recorded: now))
            recordCount += removed.count + added.count
        }
        trim(now: now)
    }

    /// Drops the changes past the limits; the oldest serial answered moves up to the
    /// first change kept's predecessor content, i.e. the dropped change's serial.
    package mutating func trim(now: UInt64) {
        while let first = changes.first,
            changes.count > limits.maxVersions || recordCount > limits.maxRecords
                || now &- first.recorded > limits.maxAgeNanoseconds
        {
            changes.removeFirst()
            recordCount -= first.removed.count + first.added.count
            oldest = first.serial
        }
    }

    /// The steps from `serial` to the current serial (RFC 1995 2): nil when the
    /// journal does not reach back to it (or it is newer than the current serial).
    package func differences(
        since serial: UInt32, soa: (UInt32) -> ResourceRecord
    ) -> [ZoneDifference]? {
        guard let current, let oldest else { return nil }
        if serial == current { return [] }
        guard !SerialNumber.isLess(serial, oldest), SerialNumber.isLess(serial, current) else { return nil }
        let later = changes.filter { SerialNumber.isLess(serial, $0.serial) }
        guard !later.isEmpty else {
            return [ZoneDifference(oldSOA: soa(serial), newSOA: soa(current), removed: [], added: [])]
        }
        var steps: [ZoneDifference] = []
        var from = serial
        for (index, change) in later.enumerated() {
            let to = index == later.count - 1 ? current : change.serial
            steps.append(ZoneDifference(oldSOA: soa(from), newSOA: soa(to), removed: change.removed, added: change.added))
            from = to
        }
        return steps
    }
}

/// The serial rule of the materialised zone (comparisons: `SerialNumber`, DNSWire).
package enum Serial {
    /// The serial after `current` for a version at `block` (docs/design.md#serials): no
    /// change when the content did not change (a block without events for the zone
    /// keeps the serial); a change takes the block when it is ahead (RFC 1982), else
    /// `current + 1` (a registry change, a retried lookup, a reorg to a lower block).
    package static func next(after current: UInt32, block: UInt64, changed: Bool) -> UInt32 {
        guard changed else { return current }
        let candidate = UInt32(truncatingIfNeeded: block)
        return SerialNumber.isLess(current, candidate) ? candidate : current &+ 1
    }
}

/// At most one new serial per `minInterval` (`[zone] serial_min_interval`): changes
/// that arrive sooner wait for the interval's end and go out together in the next
/// serial (so a burst of changes costs one journal entry, one SOA signature and one
/// NOTIFY per target). Pure: time (monotonic nanoseconds) is an argument.
package struct SerialPacer: Sendable, Equatable {
    /// Nanoseconds; 0 turns pacing off.
    package let minInterval: UInt64
    /// When the last new serial was issued (nil: none yet).
    package private(set) var lastIssued: UInt64?

    package init(minInterval: UInt64) { self.minInterval = minInterval }

    /// How long a change arriving at `now` waits before it may take a new serial (0: at once).
    package func wait(now: UInt64) -> UInt64 {
        guard minInterval > 0, let lastIssued else { return 0 }
        let elapsed = now &- lastIssued
        return elapsed >= minInterval ? 0 : minInterval - elapsed
    }

    /// A new serial was issued at `now`.
    package mutating func issued(at now: UInt64) { lastIssued = now }
}
