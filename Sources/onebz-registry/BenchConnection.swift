import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection of `onebz-registry bench`: requests go one at a
/// time (send, then read the whole answer), as a client library's pooled connection
/// does. Plain NIO rather than AsyncHTTPClient so the generator spends little CPU on the
/// machine it shares with the registry.
struct BenchConnection: ~Copyable {
    struct Answer {
        var status: Int
        /// The JSON error code of a 4xx/5xx answer ("" for 2xx or a body without one).
        var errorCode: String
    }

    private let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    private let host: String

    init(host: String, port: Int) async throws {
        self.host = host
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Runs `body` with a function that sends one request and returns its answer; the
    /// connection is closed when `body` returns.
    consuming func run<R: Sendable>(
        _ body: (_ send: (HTTPMethod, String, [UInt8]) async throws -> Answer) async throws -> R
    ) async throws -> R {
        let host = host
        return try await channel.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            return try await body { method, path, bytes in
                var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
                head.headers.add(name: "Host", value: host)
                head.headers.add(name: "Content-Type", value: "application/json")
                head.headers.add(name: "Content-Length", value: String(bytes.count))
                try await outbound.write(contentsOf: [
                    .head(head), .body(.byteBuffer(ByteBuffer(bytes: bytes))), .end(nil),
                ])
                var answer = Answer(status: 0, errorCode: "")
                var collected = ByteBuffer()
                while let part = try await responses.next() {
                    switch part {
                    case .head(let h): answer.status = Int(h.status.code)
                    case .body(var b): collected.writeBuffer(&b)
                    case .end:
                        if answer.status >= 300 { answer.errorCode = Self.errorCode(collected) }
                        return answer
                    }
                }
                throw BenchError("the registry closed the connection")
            }
        }
    }

    /// The value of `"error"` in a JSON error body, without a full decode.
    private static func errorCode(_ body: ByteBuffer) -> String {
        let text = String(buffer: body)
        guard let key = text.range(of: #""error":""#), let end = text[key.upperBound...].firstIndex(of: "\"")
        else { return "" }
        return String(text[key.upperBound..<end])
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
