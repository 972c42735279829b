import NIOConcurrencyHelpers

/// Per-endpoint numbers of the whole process, keyed by endpoint name (scheme://host:port),
/// whichever client sent the request: what `/status/chain` reports (`EndpointReport`),
/// kept beside the `/metrics` series `EndpointMetrics` records at the same moments.
/// Also whether the endpoint serves the expected chain (checked before its first use).
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
    }

    private let state = NIOLockedValueBox<[String: Counts]>([:])
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

    /// The operator's view of `names` (in that order), heights from `heights`, lag behind
    /// `head` (the block answers come from) when known.
    package func reports(
        _ names: [String], heights: [String: UInt64] = EndpointHeights.shared.heights, head: UInt64? = nil
    ) -> [EndpointReport] {
        let second = second
        let all = state.withLockedValue { $0 }
        let top = heights.values.max()
        return names.map { name in
            var report = EndpointReport(endpoint: name)
            let counts = all[name] ?? Counts()
            report.height = heights[name]
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
