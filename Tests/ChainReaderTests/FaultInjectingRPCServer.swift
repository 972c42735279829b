import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A FAKE JSON-RPC endpoint for fault injection only (rate limiting, garbage, hangs,
/// wrong ids, HTTP errors): behaviour the real devnet cannot be made to show. Replies
/// are scripted in order; the last one repeats. Listens on 127.0.0.1, a free port.
final class FaultInjectingRPCServer: Sendable {
    enum Reply: Sendable {
        /// A JSON-RPC success echoing the request id, with this JSON `result` text.
        case result(String)
        /// Any status, headers and body (the body as is).
        case raw(status: Int, headers: [String: String], body: String)
        /// Never answer (the client's timeout must fire).
        case hang
        /// A batch request: the body made from the request's calls (id, method) in order.
        case batch(@Sendable (_ calls: [(id: Int, method: String)]) -> String)
        /// Any request: (status, body) from its calls (id, method) and whether it was a
        /// batch (a JSON array) or one call.
        case dynamic(@Sendable (_ calls: [(id: Int, method: String)], _ isBatch: Bool) -> (Int, String))
    }

    private let channel: any Channel
    private let state: NIOLockedValueBox<(replies: [Reply], served: Int)>

    var url: URL { URL(string: "http://127.0.0.1:\(channel.localAddress!.port!)")! }
    /// Requests received so far.
    var requestCount: Int { state.withLockedValue { $0.served } }

    private init(channel: any Channel, state: NIOLockedValueBox<(replies: [Reply], served: Int)>) {
        self.channel = channel
        self.state = state
    }

    static func start(_ replies: [Reply]) async throws -> FaultInjectingRPCServer {
        precondition(!replies.isEmpty)
        let state = NIOLockedValueBox((replies: replies, served: 0))
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FaultInjectingRPCServer(channel: channel, state: state)
    }

    func close() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let state: NIOLockedValueBox<(replies: [Reply], served: Int)>
        var body = ByteBuffer()

        init(state: NIOLockedValueBox<(replies: [Reply], served: Int)>) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head: body.clear()
            case .body(var chunk): body.writeBuffer(&chunk)
            case .end: respond(context: context)
            }
        }

        private func respond(context: ChannelHandlerContext) {
            let reply = state.withLockedValue { s -> Reply in
                let reply = s.replies[min(s.served, s.replies.count - 1)]
                s.served += 1
                return reply
            }
            switch reply {
            case .hang:
                return
            case .result(let json):
                let id = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])?["id"]
                let idText = (id as? Int).map(String.init) ?? "null"
                write(context: context, status: 200, headers: [:], body: #"{"jsonrpc":"2.0","id":\#(idText),"result":\#(json)}"#)
            case .raw(let status, let headers, let text):
                write(context: context, status: status, headers: headers, body: text)
            case .batch(let answer):
                let calls = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [[String: Any]]) ?? []
                let ids = calls.map { (id: $0["id"] as? Int ?? -1, method: $0["method"] as? String ?? "") }
                write(context: context, status: 200, headers: [:], body: answer(ids))
            case .dynamic(let answer):
                let decoded = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))
                let isBatch = decoded is [Any]
                let calls = (decoded as? [[String: Any]]) ?? (decoded as? [String: Any]).map { [$0] } ?? []
                let ids = calls.map { (id: $0["id"] as? Int ?? -1, method: $0["method"] as? String ?? "") }
                let (status, text) = answer(ids, isBatch)
                write(context: context, status: status, headers: [:], body: text)
            }
        }

        private func write(context: ChannelHandlerContext, status: Int, headers: [String: String], body text: String) {
            var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(text.utf8.count))
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
