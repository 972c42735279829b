import ChainReader
import NIOCore
import Testing

/// Response bodies that scripts/fuzz jsonrpc (Fuzz/OnebzFuzz/JSONRPCTarget.swift) runs
/// through `JSONRPCClient.decodeResponse` / `decodeBatchResponse`: an endpoint's answer is
/// a value or a JSONRPCError, never a crash.
struct JSONRPCResponseDecodingTests {
    /// A batch answer's id minus the first request id overflowed (a trap) for an id of
    /// -2^63: one lying endpoint could stop onebzd. Found while writing the fuzz target.
    @Test(arguments: ["-9223372036854775808", "-9223372036854775807", "-9.223372036854775808e18"])
    func batchAnswerWithExtremeIDIsInvalid(_ id: String) {
        let body = ByteBuffer(string: #"[{"jsonrpc":"2.0","id":\#(id),"result":"0x1"}]"#)
        for firstID in [1, Int.max / 2] {
            do throws(JSONRPCError) {
                let results = try JSONRPCClient.decodeBatchResponse(
                    body, status: 200, firstID: firstID, methods: ["eth_chainId"], label: "eth_chainId",
                    endpoint: "test")
                Issue.record("accepted: \(results)")
            } catch {
                #expect(error.kind == .invalidResponse)
            }
        }
    }

    @Test func batchInAnyOrderHasOneResultPerRequest() throws {
        let body = ByteBuffer(
            string: #"[{"jsonrpc":"2.0","id":3,"result":[]},{"jsonrpc":"2.0","id":1,"result":"0x7"},"#
                + #"{"jsonrpc":"2.0","id":2,"error":{"code":3,"message":"execution reverted"}}]"#)
        let results = try JSONRPCClient.decodeBatchResponse(
            body, status: 200, firstID: 1, methods: ["eth_blockNumber", "eth_call", "eth_getLogs"], label: "b",
            endpoint: "test")
        #expect(results.count == 3)
        #expect(try results[0].get() == .string("0x7"))
        #expect(try results[2].get() == .array([]))
        guard case .failure(let error) = results[1] else { Issue.record("no error for eth_call"); return }
        #expect(error.kind == .rpc && error.rpcCode == 3 && error.method == "eth_call")
    }

    @Test func singleResponseChecksIDAndStatus() throws {
        let body = ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"result":"0x7"}"#)
        #expect(try JSONRPCClient.decodeResponse(body, status: 200, id: 1, method: "m", endpoint: "t") == .string("0x7"))
        #expect(throws: JSONRPCError.self) { try JSONRPCClient.decodeResponse(body, status: 200, id: 2, method: "m", endpoint: "t") }
        #expect(throws: JSONRPCError.self) { try JSONRPCClient.decodeResponse(body, status: 500, id: 1, method: "m", endpoint: "t") }
    }
}
