import DNSEngine
import Metrics
import NIOConcurrencyHelpers

/// Admits TCP connections under two caps: all connections of a listener, and those of
/// one client (an IPv4 address, or an IPv6 /64: one host usually holds a whole /64), so
/// a single host cannot take every slot and shut others out (NSD's `tcp-count` is the
/// first cap; unbound's `tcp-connection-limit` the second). Thread-safe; one per listener.
final class ConnectionLimiter: Sendable {
    enum Admission: Equatable {
        case admitted
        case listenerFull
        case clientFull
    }

    let maxConnections: Int
    let maxPerClient: Int
    private let state = NIOLockedValueBox<(total: Int, perClient: [ClientKey: Int])>((0, [:]))

    /// An IPv4 address or an IPv6 /64 (unmapped by `ClientAddress`).
    struct ClientKey: Hashable {
        let high: UInt64
        let low: UInt64

        init(_ address: ClientAddress?) {
            guard let address else {
                (high, low) = (0, 0)
                return
            }
            let bytes = address.bytes
            let words = bytes.prefix(address.isIPv4 ? 4 : 8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            (high, low) = (UInt64(bytes.count), words)
        }
    }

    init(maxConnections: Int, maxPerClient: Int) {
        self.maxConnections = maxConnections
        self.maxPerClient = maxPerClient
    }

    /// Takes a slot for `client`, or says which cap is reached (nothing taken then).
    func admit(_ client: ClientAddress?) -> Admission {
        let key = ClientKey(client)
        let admission = state.withLockedValue { state -> Admission in
            guard state.total < maxConnections else { return .listenerFull }
            let held = state.perClient[key, default: 0]
            guard held < maxPerClient else { return .clientFull }
            state.total += 1
            state.perClient[key] = held + 1
            return .admitted
        }
        if admission != .admitted {
            Counter(
                label: "onebz_dns_tcp_refused_total",
                dimensions: [("reason", admission == .listenerFull ? "listener_cap" : "client_cap")]
            ).increment()
        }
        return admission
    }

    /// Gives back an admitted connection's slot.
    func release(_ client: ClientAddress?) {
        let key = ClientKey(client)
        state.withLockedValue { state in
            state.total -= 1
            let held = state.perClient[key, default: 1] - 1
            state.perClient[key] = held > 0 ? held : nil
        }
    }

    var open: Int { state.withLockedValue { $0.total } }
}
