import DNSWire
import NIOConcurrencyHelpers

/// The zone's SOA serial: its one owner in a running onebzd.
///
/// Everything that moves the serial raises it here: the follower's processed block
/// (until the materialised zone is live), the materialised zone's versions, the static
/// zone's re-signing. Everything that follows it subscribes: the engine swaps in the
/// zone with the new SOA, the NOTIFY sender announces it. The materialised zone reads
/// `current` as the floor of its next version.
///
/// Raising is cheap and never waits for a subscriber: the serial is taken under a lock
/// that nothing slow runs under, and subscribers are called outside it, by one publisher
/// at a time, so they hear serials in increasing order (RFC 1982). A raise that arrives
/// while subscribers are being told is picked up by the same publisher's next round;
/// serials in between may be skipped (a secondary asks for the newest anyway).
final class ZoneSerial: Sendable {
    private struct State {
        var latest: UInt32
        var published: UInt32
        var publishing = false
        var subscribers: [@Sendable (UInt32) -> Void] = []
    }

    private let state: NIOLockedValueBox<State>

    init(initial: UInt32) {
        state = NIOLockedValueBox(State(latest: initial, published: initial))
    }

    /// The newest serial accepted (subscribers may still be hearing of it).
    var current: UInt32 { state.withLockedValue { $0.latest } }

    /// `subscriber` hears each serial published from now on, in increasing order.
    func subscribe(_ subscriber: @escaping @Sendable (UInt32) -> Void) {
        state.withLockedValue { $0.subscribers.append(subscriber) }
    }

    /// The serial of a processed block (the low 32 bits, as RFC 1982 arithmetic wants).
    func raise(toBlock block: UInt64) {
        raise(to: UInt32(truncatingIfNeeded: block))
    }

    /// Takes `serial` if it is newer (RFC 1982) than the current one, and tells the
    /// subscribers; an older or equal serial (or one 2^31 away) changes nothing.
    func raise(to serial: UInt32) {
        let mustPublish = state.withLockedValue { state -> Bool in
            guard SerialNumber.isLess(state.latest, serial) else { return false }
            state.latest = serial
            guard !state.publishing else { return false }
            state.publishing = true
            return true
        }
        if mustPublish { publish() }
    }

    /// Tells the subscribers, outside the lock, until they have heard the latest serial.
    private func publish() {
        while true {
            let round: (serial: UInt32, subscribers: [@Sendable (UInt32) -> Void])? = state.withLockedValue { state in
                guard state.published != state.latest else {
                    state.publishing = false
                    return nil
                }
                state.published = state.latest
                return (state.latest, state.subscribers)
            }
            guard let round else { return }
            for subscriber in round.subscribers { subscriber(round.serial) }
        }
    }
}
