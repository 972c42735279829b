import Metrics

/// What one DoT listener counts, made once per listener (not looked up per connection):
/// - `onebz_dot_connections_total` (admitted), `onebz_dot_connections_open` (gauge)
/// - `onebz_dot_refused_total{reason="listener_cap"|"client_cap"|"handshake_cap"}`
/// - `onebz_dot_handshakes_total{result="ok"|"failed"|"timeout"|"aborted"}`,
///   `onebz_dot_handshakes_in_progress` (gauge)
/// - `onebz_dot_tls_errors_total`: connections closed for a TLS error after the
///   handshake (renegotiation attempts, oversized or corrupt records)
struct DoTMetrics: Sendable {
    let admitted = Counter(label: "onebz_dot_connections_total")
    let open = Gauge(label: "onebz_dot_connections_open")
    let refusedListener = Counter(label: "onebz_dot_refused_total", dimensions: [("reason", "listener_cap")])
    let refusedClient = Counter(label: "onebz_dot_refused_total", dimensions: [("reason", "client_cap")])
    let refusedHandshakes = Counter(label: "onebz_dot_refused_total", dimensions: [("reason", "handshake_cap")])
    let handshakesOK = Counter(label: "onebz_dot_handshakes_total", dimensions: [("result", "ok")])
    let handshakesFailed = Counter(label: "onebz_dot_handshakes_total", dimensions: [("result", "failed")])
    let handshakesTimedOut = Counter(label: "onebz_dot_handshakes_total", dimensions: [("result", "timeout")])
    let handshakesAborted = Counter(label: "onebz_dot_handshakes_total", dimensions: [("result", "aborted")])
    let handshaking = Gauge(label: "onebz_dot_handshakes_in_progress")
    let tlsErrors = Counter(label: "onebz_dot_tls_errors_total")

    init() {
        open.record(0)
        handshaking.record(0)
    }
}
