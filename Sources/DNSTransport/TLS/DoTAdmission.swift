import ConnectionLimits
import NIOConcurrencyHelpers
import NIOCore

/// What every connection of one DoT listener shares: the connection caps (in all, per
/// client: `ConnectionLimiter`, as plain TCP), the count of handshakes in progress and
/// its cap, and the metrics.
final class DoTAdmission: Sendable {
    enum Refusal: String {
        case listenerCap = "listener_cap"
        case clientCap = "client_cap"
        case handshakeCap = "handshake_cap"
    }
    enum HandshakeResult { case ok, failed, timeout, aborted }

    private struct State {
        var limiter: ConnectionLimiter
        var handshaking = 0
    }

    let metrics = DoTMetrics()
    let maxHandshakes: Int
    private let state: NIOLockedValueBox<State>

    init(_ configuration: DoTConfiguration) {
        maxHandshakes = configuration.maxHandshakes
        state = NIOLockedValueBox(
            State(
                limiter: ConnectionLimiter(
                    maxConnections: configuration.maxConnections,
                    maxConnectionsPerClient: configuration.maxConnectionsPerClient)))
    }

    /// A connection opened: admitted (counted, its handshake too) or refused and why.
    func opened(_ client: ConnectionLimiter.ClientKey?) -> Refusal? {
        let (refusal, open, handshaking) = state.withLockedValue { state -> (Refusal?, Int, Int) in
            guard state.handshaking < maxHandshakes else {
                return (.handshakeCap, state.limiter.open, state.handshaking)
            }
            switch state.limiter.opened(client) {
            case .admit:
                state.handshaking += 1
                return (nil, state.limiter.open, state.handshaking)
            case .refuseTotal: return (.listenerCap, state.limiter.open, state.handshaking)
            case .refusePerClient: return (.clientCap, state.limiter.open, state.handshaking)
            }
        }
        switch refusal {
        case nil:
            metrics.admitted.increment()
            metrics.open.record(open)
            metrics.handshaking.record(handshaking)
        case .listenerCap?: metrics.refusedListener.increment()
        case .clientCap?: metrics.refusedClient.increment()
        case .handshakeCap?: metrics.refusedHandshakes.increment()
        }
        return refusal
    }

    /// An admitted connection closed.
    func closed(_ client: ConnectionLimiter.ClientKey?) {
        let open = state.withLockedValue { state in
            state.limiter.closed(client)
            return state.limiter.open
        }
        metrics.open.record(open)
    }

    /// An admitted connection's handshake ended (once per connection).
    func handshakeEnded(_ result: HandshakeResult) {
        let handshaking = state.withLockedValue { state in
            state.handshaking = max(0, state.handshaking - 1)
            return state.handshaking
        }
        metrics.handshaking.record(handshaking)
        switch result {
        case .ok: metrics.handshakesOK.increment()
        case .failed: metrics.handshakesFailed.increment()
        case .timeout: metrics.handshakesTimedOut.increment()
        case .aborted: metrics.handshakesAborted.increment()
        }
    }
}
