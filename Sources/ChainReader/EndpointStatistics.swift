import Metrics
import NIOConcurrencyHelpers

/// Per-endpoint numbers of the whole process, keyed by endpoint name (scheme://host:port),
/// whichever client sent the request: what `/status/chain` reports (`EndpointReport`),
/// kept beside the `/metrics` series `EndpointMetrics` records at the same moments.
/// Also whether the endpoint serves the expected chain (checked before its first use),
/// and the height each reported, so that each one's lag behind the highest is known
/// whichever client asked (`onebz_chain_endpoint_lag_blocks`).
package final class EndpointStatistics: Sendable {
    package static let shared = EndpointStatistics()

    package enum ChainIDState: Sendable, Equatable {
        case unchecked
        case checked
        case wrong(UInt64)
    }

    private struct Counts: Sendable {
        var requests: UInt64 = 0
        var window = RequestWindow()
        var rateLimited: UInt64 = 0
        var errors: [String: UInt64] = [:]
        var batchSize = 0
        var budget: Double?
        var chainID = ChainIDState.unchecked
        var height: UInt64?
    }

    private let state = NIOLockedValueBox<[String: Counts]>([:])
    private let lagGauges = NIOLockedValueBox<[String: Gauge]>([:])
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    package init() { start = clock.now }

    private var second: Int64 { (clock.now - start).components.seconds }

    /// One request sent; returns the requests of the last minute.
    @discardableResult
    package func request(_ name: String) -> UInt64 {
        let second = second
        return state.withLockedValue { all in
            all[name, default: Counts()].requests += 1
            all[name, default: Counts()].window.add(at: second)
            return all[name]!.window.lastMinute(at: second)
        }
    }

    package func error(_ name: String, kind: String) {
        state.withLockedValue { $0[name, default: Counts()].errors[kind, default: 0] += 1 }
    }

    package func rateLimited(_ name: String) {
        state.withLockedValue { $0[name, default: Counts()].rateLimited += 1 }
    }

    package func batchSize(_ name: String, _ size: Int) {
        state.withLockedValue { $0[name, default: Counts()].batchSize = size }
    }

    package func budget(_ name: String, _ requestsPerSecond: Double?) {
        state.withLockedValue { $0[name, default: Counts()].budget = requestsPerSecond }
    }

    package func chainID(_ name: String) -> ChainIDState {
        state.withLockedValue { $0[name]?.chainID ?? .unchecked }
    }

    /// Records what the endpoint's eth_chainId said; false when another client had
    /// recorded it already (it is logged and counted once).
    @discardableResult
    package func setChainID(_ name: String, _ value: ChainIDState) -> Bool {
        state.withLockedValue { all in
            guard all[name, default: Counts()].chainID == .unchecked else { return false }
            all[name, default: Counts()].chainID = value
            return true
        }
    }

    /// A height the endpoint reported: `latest`, its own head (it may go down after a
    /// restart); otherwise a block it served (its head is at least that). Returns the
    /// height now known, and updates every endpoint's lag gauge.
    @discardableResult
    package func height(_ name: String, _ height: UInt64, latest: Bool) -> UInt64 {
        let heights = state.withLockedValue { all -> [String: UInt64] in
            let known = all[name]?.height ?? 0
            all[name, default: Counts()].height = latest ? height : max(known, height)
            return all.compactMapValues(\.height)
        }
        let top = heights.values.max() ?? 0
        for (endpoint, value) in heights {
            let gauge = lagGauges.withLockedValue { gauges in
                if let gauge = gauges[endpoint] { return gauge }
                let gauge = Gauge(label: "onebz_chain_endpoint_lag_blocks", dimensions: [("endpoint", endpoint)])
                gauges[endpoint] = gauge
                return gauge
            }
            gauge.record(Int64(clamping: top - value))
        }
        return heights[name] ?? height
    }

    /// The operator's view of `names` (in that order), lag behind the highest endpoint
    /// and behind `head` (the block answers come from) when known.
    package func reports(_ names: [String], head: UInt64? = nil) -> [EndpointReport] {
        let second = second
        let all = state.withLockedValue { $0 }
        let top = all.values.compactMap(\.height).max()
        return names.map { name in
            var report = EndpointReport(endpoint: name)
            let counts = all[name] ?? Counts()
            report.height = counts.height
            if let height = report.height, let top { report.lag = top - min(top, height) }
            if let height = report.height, let head { report.behindHead = head - min(head, height) }
            report.requests = counts.requests
            report.requestsPerMinute = counts.window.lastMinute(at: second)
            report.requestsPerSecond = counts.budget
            report.rateLimited = counts.rateLimited
            report.errors = counts.errors
            report.batchSize = counts.batchSize
            switch counts.chainID {
            case .unchecked: report.chainID = "unchecked"
            case .checked: report.chainID = "checked"
            case .wrong(let id):
                report.chainID = "wrong"
                report.reportedChainID = id
            }
            return report
        }
    }
}
