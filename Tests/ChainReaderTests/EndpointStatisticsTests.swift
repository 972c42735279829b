import Testing

@testable import ChainReader

/// The operator's per-endpoint numbers (pure parts, time as an argument): requests in
/// the last minute, lag behind the highest endpoint and the follower's head, the chain
/// id recorded once, and an endpoint on another chain never picked.
@Suite struct EndpointStatisticsTests {
    @Test func requestsPerMinuteCountTheLastSixtySeconds() {
        var window = RequestWindow()
        for second in [0, 0, 1, 30, 59] as [Int64] { window.add(at: second) }
        #expect(window.lastMinute(at: 59) == 5)
        #expect(window.lastMinute(at: 60) == 3, "second 0 left the window")
        window.add(at: 61)  // reuses second 1's slot
        #expect(window.lastMinute(at: 61) == 3)
        #expect(window.lastMinute(at: 200) == 0)
    }

    @Test func reportsHeightsLagAndWhatWasCounted() {
        let statistics = EndpointStatistics()
        let (a, b) = ("http://a.test:1", "http://b.test:2")
        statistics.request(a)
        statistics.request(a)
        statistics.rateLimited(b)
        statistics.error(b, kind: "rate_limited")
        statistics.batchSize(b, 1)
        statistics.budget(b, 5)
        #expect(statistics.setChainID(a, .checked))
        #expect(statistics.setChainID(b, .wrong(1)))
        #expect(!statistics.setChainID(b, .wrong(1)), "recorded once")
        #expect(statistics.height(a, 100, latest: true) == 100)
        #expect(statistics.height(b, 97, latest: false) == 97)
        #expect(statistics.height(b, 90, latest: false) == 97, "a block served is at most the head")
        let reports = statistics.reports([a, b], head: 99)
        #expect(reports.map(\.requests) == [2, 0] && reports.map(\.requestsPerMinute) == [2, 0])
        #expect(reports.map(\.lag) == [0, 3] && reports.map(\.behindHead) == [0, 2])
        #expect(reports[1].rateLimited == 1 && reports[1].errors == ["rate_limited": 1] && reports[1].batchSize == 1)
        #expect(reports.map(\.requestsPerSecond) == [nil, 5])
        #expect(reports.map(\.chainID) == ["checked", "wrong"] && reports[1].reportedChainID == 1)
    }

    @Test func anExcludedEndpointIsNeverPicked() {
        let now = ContinuousClock.now
        var state = EndpointState(count: 3)
        state.exclude(0)
        #expect(state.preferred == 1 && !state.allExcluded)
        state.failed(1, coolDownUntil: nil)
        #expect(state.preferred == 2)
        state.failed(2, coolDownUntil: nil)
        #expect(state.preferred == 1, "past the excluded one")
        #expect(state.pick(now: now).0 == 1)
        #expect(state.hedgeTarget(excluding: 1, now: now) == 2)
        state.exclude(1)
        state.exclude(2)
        #expect(state.allExcluded)
    }
}
