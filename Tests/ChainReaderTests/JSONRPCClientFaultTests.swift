import ChainReader
import Foundation
import Testing

/// Client behaviour under faults, against FaultInjectingRPCServer (a fake, for faults
/// only; normal behaviour is tested against the real devnet).
@Suite struct JSONRPCClientFaultTests {
    static func client(_ urls: [URL], timeout: Duration = .seconds(2), attempts: Int = 4) -> JSONRPCClient {
        var configuration = JSONRPCClient.Configuration(endpoints: urls)
        configuration.timeout = timeout
        configuration.maxAttempts = attempts
        configuration.backoff = .milliseconds(20)
        configuration.maxRetryAfter = .seconds(5)
        return JSONRPCClient(configuration: configuration)
    }

    @Test func rateLimitedEndpointIsRetriedAfterRetryAfter() async throws {
        let server = try await FaultInjectingRPCServer.start([
            .raw(status: 429, headers: ["Retry-After": "1"], body: "slow down"), .result(#""0x2a""#),
        ])
        defer { Task { await server.close() } }
        let start = ContinuousClock.now
        #expect(try await Self.client([server.url]).blockNumber() == 42)
        #expect(ContinuousClock.now - start >= .milliseconds(950))
        #expect(server.requestCount == 2)
    }

    @Test func rateLimitedEndpointIsAvoidedWhileAnotherAnswers() async throws {
        let limited = try await FaultInjectingRPCServer.start([
            .raw(status: 429, headers: ["Retry-After": "30"], body: ""), .result(#""0x1""#),
        ])
        let healthy = try await FaultInjectingRPCServer.start([.result(#""0x2""#)])
        defer { Task { await limited.close(); await healthy.close() } }
        let client = Self.client([limited.url, healthy.url])
        let start = ContinuousClock.now
        #expect(try await client.blockNumber() == 2)
        #expect(try await client.blockNumber() == 2)
        // Far below the 30 s Retry-After: nobody waited for the limited endpoint (the
        // bound is loose so a loaded CI machine passes; the counts are the real check).
        #expect(ContinuousClock.now - start < .seconds(20))
        #expect(limited.requestCount == 1 && healthy.requestCount == 2)
    }

    @Test func retryAfterBeyondTheLimitFails() async throws {
        let server = try await FaultInjectingRPCServer.start([.raw(status: 429, headers: ["Retry-After": "60"], body: "")])
        defer { Task { await server.close() } }
        let error = await #expect(throws: JSONRPCError.self) { try await Self.client([server.url]).blockNumber() }
        #expect(error?.kind == .rateLimited && error?.retryAfter == .seconds(60))
        #expect(server.requestCount == 1)
    }

    @Test func unparsableResponseIsRejectedClearly() async throws {
        let server = try await FaultInjectingRPCServer.start([
            .raw(status: 200, headers: [:], body: "<html>gateway error</html>")
        ])
        defer { Task { await server.close() } }
        let error = await #expect(throws: JSONRPCError.self) {
            try await Self.client([server.url], attempts: 1).blockNumber()
        }
        #expect(error?.kind == .invalidResponse)
        #expect(error?.description.contains("not a JSON-RPC response: <html>gateway error</html>") == true)
    }

    @Test(arguments: [
        ("wrong id", FaultInjectingRPCServer.Reply.raw(status: 200, headers: [:], body: #"{"jsonrpc":"2.0","id":999,"result":"0x1"}"#)),
        ("no result", .raw(status: 200, headers: [:], body: #"{"jsonrpc":"2.0","id":1}"#)),
        ("not 2.0", .raw(status: 200, headers: [:], body: #"{"jsonrpc":"1.0","id":1,"result":"0x1"}"#)),
        ("result not a quantity", .result(#"{"number":1}"#)),
    ])
    func malformedResponsesAreInvalid(_ label: String, _ reply: FaultInjectingRPCServer.Reply) async throws {
        let server = try await FaultInjectingRPCServer.start([reply])
        defer { Task { await server.close() } }
        let error = await #expect(throws: JSONRPCError.self, "\(label)") {
            try await Self.client([server.url], attempts: 1).blockNumber()
        }
        #expect(error?.kind == .invalidResponse, "\(label)")
    }

    @Test func garbageThenFailoverSucceeds() async throws {
        let broken = try await FaultInjectingRPCServer.start([.raw(status: 200, headers: [:], body: "{")])
        let healthy = try await FaultInjectingRPCServer.start([.result(#""0x7""#)])
        defer { Task { await broken.close(); await healthy.close() } }
        #expect(try await Self.client([broken.url, healthy.url]).blockNumber() == 7)
    }

    @Test func hangingEndpointTimesOutThenFailsOver() async throws {
        let hanging = try await FaultInjectingRPCServer.start([.hang])
        let healthy = try await FaultInjectingRPCServer.start([.result(#""0x9""#)])
        defer { Task { await hanging.close(); await healthy.close() } }
        let error = await #expect(throws: JSONRPCError.self) {
            try await Self.client([hanging.url], timeout: .milliseconds(300), attempts: 1).blockNumber()
        }
        #expect(error?.kind == .timeout)
        #expect(try await Self.client([hanging.url, healthy.url], timeout: .milliseconds(300)).blockNumber() == 9)
    }

    @Test func httpErrorsAndErrorObjects() async throws {
        let server = try await FaultInjectingRPCServer.start([
            .raw(status: 503, headers: [:], body: "unavailable"),
            .raw(status: 400, headers: [:], body: #"{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"invalid params","data":{"why":"x"}}}"#),
        ])
        defer { Task { await server.close() } }
        let error = await #expect(throws: JSONRPCError.self) { try await Self.client([server.url]).blockNumber() }
        // The 503 is retried; the error object (even with HTTP 400) is final.
        #expect(error?.kind == .rpc && error?.rpcCode == -32602 && error?.httpStatus == 400)
        #expect(error?.data == #"{"why":"x"}"#)
        #expect(server.requestCount == 2)
    }

    @Test(arguments: [
        (-32005, "block range too large: 5000 blocks requested", true),
        (-32602, "block range is too wide", true),
        (-32000, "query returned more than 10000 results", true),
        (-32005, "rate limit exceeded", false),
        (-32000, "header not found", false),
        (3, "execution reverted: Not owner", false),
    ])
    func rangeTooLargeIsRecognised(_ code: Int, _ message: String, _ expected: Bool) async throws {
        let server = try await FaultInjectingRPCServer.start([
            .raw(status: 200, headers: [:], body: #"{"jsonrpc":"2.0","id":1,"error":{"code":\#(code),"message":"\#(message)"}}"#)
        ])
        defer { Task { await server.close() } }
        let error = await #expect(throws: JSONRPCError.self) {
            try await Self.client([server.url], attempts: 1).call("eth_getLogs", [])
        }
        #expect(error?.isRangeTooLarge == expected, "\(message)")
    }
}
