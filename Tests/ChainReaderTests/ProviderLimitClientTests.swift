import ChainReader
import Foundation
import Testing

/// JSONRPCClient against FAKE providers (FaultInjectingRPCServer) that rate limit with
/// JSON-RPC errors or 429 without Retry-After, and that cap or refuse batches: the other
/// endpoint is used meanwhile, requests stay within the configured budget, batches are
/// re-sent in pieces the endpoint accepts, and every result comes back in order.
@Suite struct ProviderLimitClientTests {
    static func client(_ urls: [URL], configure: (inout JSONRPCClient.Configuration) -> Void = { _ in }) -> JSONRPCClient {
        var configuration = JSONRPCClient.Configuration(endpoints: urls)
        configuration.timeout = .seconds(2)
        configuration.backoff = .milliseconds(20)
        configuration.jitter = { 1 }
        configure(&configuration)
        return JSONRPCClient(configuration: configuration)
    }

    static func answers(_ calls: [(id: Int, method: String)]) -> String {
        "[" + calls.map { #"{"jsonrpc":"2.0","id":\#($0.id),"result":"0x\#(String($0.id, radix: 16))"}"# }.joined(separator: ",") + "]"
    }

    @Test func jsonRPCRateLimitRestsTheEndpointAndUsesTheOther() async throws {
        let limited = try await FaultInjectingRPCServer.start([
            .raw(status: 200, headers: [:], body: #"{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"rate limit exceeded"}}"#),
            .result(#""0x1""#),
        ])
        let healthy = try await FaultInjectingRPCServer.start([.result(#""0x2""#)])
        defer { Task { await limited.close(); await healthy.close() } }
        let client = Self.client([limited.url, healthy.url]) { $0.rateLimitBackoff = .seconds(5) }
        for _ in 0..<5 { #expect(try await client.blockNumber() == 2) }
        #expect(limited.requestCount == 1, "rested, not retried at once")
        #expect(healthy.requestCount == 5)
    }

    @Test func http429WithoutRetryAfterBacksOffThenRetries() async throws {
        let server = try await FaultInjectingRPCServer.start([
            .raw(status: 429, headers: [:], body: "Too Many Requests"),
            .raw(status: 429, headers: [:], body: "Too Many Requests"), .result(#""0x2a""#),
        ])
        defer { Task { await server.close() } }
        let client = Self.client([server.url]) { $0.rateLimitBackoff = .milliseconds(200) }
        let start = ContinuousClock.now
        #expect(try await client.blockNumber() == 42)
        // 200 ms, then 400 ms (doubling, jitter pinned at 1): no retry storm.
        #expect(ContinuousClock.now - start >= .milliseconds(580))
        #expect(server.requestCount == 3)
    }

    @Test func requestsPerSecondIsABound() async throws {
        let server = try await FaultInjectingRPCServer.start([.result(#""0x2a""#)])
        defer { Task { await server.close() } }
        let client = Self.client([server.url]) {
            $0.requestsPerSecond = 20
            $0.requestBurst = 1
        }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: UInt64.self) { group in
            for _ in 0..<11 { group.addTask { try await client.blockNumber() } }
            for try await value in group { #expect(value == 42) }
        }
        // 1 at once, then 10 more at 20/s: at least 0.5 s, all answered.
        #expect(ContinuousClock.now - start >= .milliseconds(480))
        #expect(server.requestCount == 11)
    }

    @Test func batchesAreResentInPiecesTheEndpointAccepts() async throws {
        let capped = try await FaultInjectingRPCServer.start([
            .dynamic { calls, isBatch in
                if isBatch && calls.count > 3 {
                    return (200, #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch size too large, maximum batch size is 3"}}"#)
                }
                return (200, isBatch ? Self.answers(calls) : String(Self.answers(calls).dropFirst().dropLast()))
            }
        ])
        defer { Task { await capped.close() } }
        let client = Self.client([capped.url])
        let calls = (0..<8).map { _ in (method: "eth_blockNumber", params: [JSONValue]()) }
        let first = try await client.batch(calls) { try $0.map { try $0.get() } }
        #expect(first.count == 8)
        // 1 refused, then 3 + 3 + 2.
        #expect(capped.requestCount == 4)
        let second = try await client.batch(calls) { try $0.map { try $0.get() } }
        #expect(second.count == 8 && capped.requestCount == 7, "the limit is remembered")
        // Order kept: the ids the server echoed as results rise with the calls.
        let values = second.compactMap { $0.stringValue.flatMap { UInt64($0.dropFirst(2), radix: 16) } }
        #expect(values == values.sorted() && Set(values).count == 8)
    }

    @Test func endpointWithoutBatchesGetsSingleCalls() async throws {
        let single = try await FaultInjectingRPCServer.start([
            .dynamic { calls, isBatch in
                if isBatch { return (200, #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Batch requests are not supported"}}"#) }
                return (200, #"{"jsonrpc":"2.0","id":\#(calls[0].id),"result":"0x7"}"#)
            }
        ])
        defer { Task { await single.close() } }
        let client = Self.client([single.url])
        let calls = (0..<3).map { _ in (method: "eth_blockNumber", params: [JSONValue]()) }
        let values = try await client.batch(calls) { try $0.map { try $0.get() } }
        #expect(values == [.string("0x7"), .string("0x7"), .string("0x7")])
        // Refused once (no size named: halved, 3 -> 1), then 3 single calls.
        #expect(single.requestCount == 4)
        let again = single.requestCount
        _ = try await client.batch(calls) { try $0.map { try $0.get() } }
        #expect(single.requestCount == again + 3, "single calls from then on")
    }
}

/// Hedged reads: a slow endpoint's call also goes to the next one after `hedgeAfter`.
@Suite struct HedgedRequestTests {
    @Test func slowEndpointIsHedgedToTheNextOne() async throws {
        let slow = try await FaultInjectingRPCServer.start([.hang])
        let fast = try await FaultInjectingRPCServer.start([.result(#""0x2""#)])
        defer { Task { await slow.close(); await fast.close() } }
        let client = ProviderLimitClientTests.client([slow.url, fast.url]) {
            $0.timeout = .seconds(5)
            $0.hedgeAfter = .milliseconds(200)
        }
        let start = ContinuousClock.now
        #expect(try await client.blockNumber() == 2)
        #expect(ContinuousClock.now - start < .seconds(3), "not the 5 s timeout")
        #expect(slow.requestCount == 1 && fast.requestCount == 1, "one hedge, no more")
    }

    @Test func slowBatchIsHedgedWholeToTheNextOne() async throws {
        let slow = try await FaultInjectingRPCServer.start([.hang])
        let fast = try await FaultInjectingRPCServer.start([.batch(ProviderLimitClientTests.answers)])
        defer { Task { await slow.close(); await fast.close() } }
        let client = ProviderLimitClientTests.client([slow.url, fast.url]) {
            $0.timeout = .seconds(5)
            $0.hedgeAfter = .milliseconds(200)
        }
        let results = try await client.batch([("eth_blockNumber", []), ("eth_chainId", [])]) { $0 }
        #expect(results.count == 2 && results.allSatisfy { (try? $0.get()) != nil }, "both calls from the hedge")
        #expect(slow.requestCount == 1 && fast.requestCount == 1, "the whole batch hedged once, in one request")
    }

    @Test func fastAnswerSendsNoHedgeAndAFailureFailsOverAtOnce() async throws {
        let first = try await FaultInjectingRPCServer.start([
            .raw(status: 500, headers: [:], body: "down"), .result(#""0x1""#),
        ])
        let second = try await FaultInjectingRPCServer.start([.result(#""0x2""#)])
        defer { Task { await first.close(); await second.close() } }
        let client = ProviderLimitClientTests.client([first.url, second.url]) { $0.hedgeAfter = .milliseconds(300) }
        let start = ContinuousClock.now
        #expect(try await client.blockNumber() == 2, "HTTP 500: the next endpoint, not a hedge wait")
        #expect(ContinuousClock.now - start < .milliseconds(290))
        #expect(try await client.blockNumber() == 2)
        try await Task.sleep(for: .milliseconds(400))
        #expect(first.requestCount == 1 && second.requestCount == 2, "answers within the deadline: no hedge")
    }
}
