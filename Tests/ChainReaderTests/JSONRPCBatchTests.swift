import ChainReader
import Foundation
import Testing

/// JSON-RPC batches (several calls, one HTTP request) against FaultInjectingRPCServer:
/// answers in any order, errors per element, and what makes a whole batch fail over.
@Suite struct JSONRPCBatchTests {
    static let calls: [(method: String, params: [JSONValue])] = [
        ("eth_chainId", []), ("eth_blockNumber", []), ("eth_getProof", ["0x00", [], "0x1"]),
    ]

    static func element(_ id: Int, _ body: String) -> String { #"{"jsonrpc":"2.0","id":\#(id),\#(body)}"# }

    @Test func answersInAnyOrderWithErrorsPerElement() async throws {
        let server = try await FaultInjectingRPCServer.start([
            .batch { calls in
                "[" + calls.reversed().map { call in
                    switch call.method {
                    case "eth_blockNumber": Self.element(call.id, #""error":{"code":-32000,"message":"header not found"}"#)
                    case "eth_chainId": Self.element(call.id, #""result":"0x1""#)
                    default: Self.element(call.id, #""result":{"x":1}"#)
                    }
                }.joined(separator: ",") + "]"
            }
        ])
        defer { Task { await server.close() } }
        let results = try await JSONRPCClientFaultTests.client([server.url]).batch(Self.calls) { $0 }
        #expect(results.count == 3)
        #expect(try results[0].get() == .string("0x1"))
        if case .failure(let error) = results[1] {
            #expect(error.kind == .rpc && error.isHeaderNotFound && error.method == "eth_blockNumber")
        } else {
            Issue.record("the element's error is lost: \(results[1])")
        }
        #expect(try results[2].get() == ["x": .number(1)])
        #expect(server.requestCount == 1)
    }

    /// A batch answer missing an element, or with an id not asked for, is an invalid
    /// answer of that endpoint: the batch goes to the next endpoint whole.
    @Test(arguments: ["missing", "unknown id", "not an array"])
    func brokenBatchFailsOverWhole(_ fault: String) async throws {
        let broken = try await FaultInjectingRPCServer.start([
            .batch { calls in
                switch fault {
                case "missing": "[" + Self.element(calls[0].id, #""result":"0x1""#) + "]"
                case "unknown id": "[" + calls.map { Self.element($0.id + 100, #""result":"0x1""#) }.joined(separator: ",") + "]"
                default: Self.element(calls[0].id, #""result":"0x1""#)
                }
            }
        ])
        let honest = try await FaultInjectingRPCServer.start([
            .batch { calls in "[" + calls.map { Self.element($0.id, #""result":"0x\#($0.id)""#) }.joined(separator: ",") + "]" }
        ])
        defer { Task { await broken.close(); await honest.close() } }
        let results = try await JSONRPCClientFaultTests.client([broken.url, honest.url]).batch(Self.calls) { $0 }
        #expect(results.allSatisfy { (try? $0.get()) != nil }, "\(fault)")
        #expect(broken.requestCount == 1 && honest.requestCount == 1, "\(fault)")
    }

    /// `decode` rejecting the results is an invalid answer (next endpoint); an element's
    /// JSON-RPC error it rethrows keeps its kind (a revert is final).
    @Test func decodeDecidesWhatFailsOver() async throws {
        let answer = FaultInjectingRPCServer.Reply.batch { calls in
            "[" + calls.map { Self.element($0.id, #""error":{"code":3,"message":"execution reverted: no"}"#) }.joined(separator: ",") + "]"
        }
        let a = try await FaultInjectingRPCServer.start([answer])
        let b = try await FaultInjectingRPCServer.start([answer])
        defer { Task { await a.close(); await b.close() } }
        let client = JSONRPCClientFaultTests.client([a.url, b.url], attempts: 2)
        let reverted = await #expect(throws: JSONRPCError.self) {
            try await client.batch(Self.calls) { try $0[0].get() }
        }
        #expect(reverted?.isExecutionReverted == true && a.requestCount + b.requestCount == 1)
        struct Unusable: Error {}
        let invalid = await #expect(throws: JSONRPCError.self) {
            try await client.batch(Self.calls) { _ -> Int in throw Unusable() }
        }
        #expect(invalid?.kind == .invalidResponse && a.requestCount + b.requestCount == 3)
    }
}
