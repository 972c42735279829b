import DNSEngine

/// When to (re)send a NOTIFY (RFC 1996) to one secondary: at once for a new serial,
/// then with a doubling delay (capped) until the secondary acknowledges; a newer
/// serial supersedes an unacknowledged older one. Pure: time (monotonic nanoseconds)
/// and message IDs are arguments.
public struct NotifySchedule: Sendable, Equatable {
    public let initialDelay: UInt64
    public let maxDelay: UInt64
    /// The serial being announced and not yet acknowledged.
    public private(set) var serial: UInt32?
    /// The ID of the NOTIFY for `serial` (kept across retries, so a late answer to an
    /// earlier attempt still counts).
    public private(set) var id: UInt16 = 0
    public private(set) var attempts = 0
    public private(set) var nextAt: UInt64 = 0
    private var delay: UInt64

    public init(initialDelay: UInt64 = 1_000_000_000, maxDelay: UInt64 = 60_000_000_000) {
        self.initialDelay = initialDelay
        self.maxDelay = max(initialDelay, maxDelay)
        self.delay = initialDelay
    }

    /// A new serial to announce; returns the superseded unacknowledged serial, if any.
    @discardableResult
    public mutating func announce(_ serial: UInt32, id: UInt16, now: UInt64) -> UInt32? {
        let superseded = self.serial
        self.serial = serial
        self.id = id
        attempts = 0
        delay = initialDelay
        nextAt = now
        return superseded == serial ? nil : superseded
    }

    /// Whether a NOTIFY should go out now.
    public func isDue(now: UInt64) -> Bool { serial != nil && now >= nextAt }

    /// A NOTIFY went out at `now`: the next attempt waits the current delay, which doubles.
    public mutating func sent(now: UInt64) {
        attempts += 1
        nextAt = now + delay
        delay = min(delay * 2, maxDelay)
    }

    /// An acknowledgement with `id` arrived: returns the serial it acknowledges (nil:
    /// not ours, or nothing pending).
    public mutating func acknowledge(id: UInt16) -> UInt32? {
        guard let serial, id == self.id else { return nil }
        self.serial = nil
        return serial
    }
}
