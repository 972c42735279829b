import Foundation
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOSSL

/// WebSocket upgrades (RFC 6455 4) over HTTP/1.1, passed through to the verified node.
/// Sits right after the HTTP/1 request decoder and lets every other request through to
/// Hummingbird. An upgrade request is taken out of the HTTP pipeline: it passes the same
/// checks as any request (`GatewayResponder.destination`), goes to the node on a new
/// connection whose key is checked against the TLSA, and if the node answers 101 the
/// browser's connection and the node's are joined and bytes relayed both ways; otherwise
/// the browser gets the refusal's status and the connection is closed.
final class WebSocketUpgradeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let responder: GatewayResponder
    private var upgrading = false

    init(responder: GatewayResponder) {
        self.responder = responder
    }

    /// After the HTTP/1 request decoder, when there is one (HTTP/2 has no `Upgrade`; RFC
    /// 8441's extended CONNECT is not offered, so browsers use HTTP/1.1 for WebSockets).
    static func install(_ channel: any Channel, responder: GatewayResponder) throws {
        guard let decoder = try? channel.pipeline.syncOperations.context(
            handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
        else { return }
        try channel.pipeline.syncOperations.addHandler(
            WebSocketUpgradeHandler(responder: responder), position: .after(decoder.handler))
    }

    static func isUpgrade(_ head: HTTPRequestHead) -> Bool {
        let tokens = head.headers["connection"].flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        return head.method == .GET && tokens.contains("upgrade")
            && head.headers["upgrade"].contains { $0.lowercased().contains("websocket") }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if upgrading { return }  // the upgrade request's end; nothing else comes before the 101
        guard case .head(let head) = part, Self.isUpgrade(head) else {
            context.fireChannelRead(data)
            return
        }
        upgrading = true
        let (channel, responder) = (context.channel, self.responder)
        let client = GatewayResponder.clientAddress(channel.remoteAddress)
        Task { await WebSocketTunnel(responder: responder, browser: channel, client: client).open(head) }
    }
}

/// One upgrade: the checks, the node connection, the join.
struct WebSocketTunnel: Sendable {
    let responder: GatewayResponder
    let browser: any Channel
    let client: String

    func open(_ head: HTTPRequestHead) async {
        let host = GatewayResponder.host(head.headers["host"].first ?? "")
        guard head.uri.hasPrefix("/") else {
            return refuse(head, .badRequest, reason: "absolute-form")
        }
        let headerBytes = head.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        let (site, address, verified): (NodeSite, String, Bool)
        switch await responder.destination(host: host, headerBytes: headerBytes) {
        case .gateway: return refuse(head, .notFound, reason: "gateway")
        case .refused(let page, _):
            return refuse(
                head, .init(statusCode: page.status.code), reason: page.headers[HeaderField.Name("Onebz-Refusal")!] ?? "refused")
        case .node(let node, let nodeAddress, let nodeVerified): (site, address, verified) = (node, nodeAddress, nodeVerified)
        }
        let port = verified ? site.port : 80
        let request = responder.nodeHead(
            method: head.method.rawValue, uri: head.uri, fields: head.headers.map { ($0.name, $0.value) }, site: site,
            verified: verified, client: client,
            host: GatewayResponder.forwardedHost(head.headers["host"].first ?? host), upgrade: true)
        let key = NodeKey(address: address, port: port, serverName: site.name, spkiSHA256: verified ? site.spkiSHA256 : nil)
        let node: NodeTunnel
        do {
            node = try await responder.connector.tunnel(key, request: request)
        } catch {
            let (page, _) = responder.failurePage(error, site: site, address: address, port: port)
            return refuse(head, .init(statusCode: page.status.code), reason: page.headers[HeaderField.Name("Onebz-Refusal")!] ?? "node-error")
        }
        guard node.status == 101 else {
            node.channel.close(promise: nil)
            return refuse(head, .badGateway, reason: "upgrade-refused-by-node (\(node.status))")
        }
        log(head, status: 101)
        join(node)
    }

    /// The browser's connection becomes a byte pipe to the node: the HTTP/1 handlers and
    /// Hummingbird's idle timer leave, a relay takes their place, the node's 101 goes out.
    private func join(_ node: NodeTunnel) {
        let browser = self.browser
        browser.eventLoop.execute {
            do {
                let sync = browser.pipeline.syncOperations
                let relay = ByteRelayHandler(peer: node.channel)
                if let tls = try? sync.context(handlerType: NIOSSLServerHandler.self) {
                    try sync.addHandler(relay, position: .after(tls.handler))
                } else {
                    try sync.addHandler(relay, position: .first)
                }
                for type in [HTTPResponseEncoder.self, ByteToMessageHandler<HTTPRequestDecoder>.self, HTTPConnectionStateHandler.self]
                    as [any RemovableChannelHandler.Type]
                {
                    if let context = try? Self.context(sync, type) { sync.removeHandler(context: context, promise: nil) }
                }
                let context = try sync.context(handler: relay)
                context.writeAndFlush(NIOAny(node.head), promise: nil)
                node.relay(to: browser)
            } catch {
                browser.close(promise: nil)
                node.channel.close(promise: nil)
            }
        }
    }

    private static func context(
        _ sync: ChannelPipeline.SynchronousOperations, _ type: any RemovableChannelHandler.Type
    ) throws -> ChannelHandlerContext {
        func open<H: RemovableChannelHandler>(_: H.Type) throws -> ChannelHandlerContext { try sync.context(handlerType: H.self) }
        return try open(type)
    }

    /// A short text answer from the upgrade handler's place (the HTTP encoder is still
    /// there), then the connection closes: after an upgrade request it is in no state for
    /// another.
    private func refuse(_ head: HTTPRequestHead, _ status: HTTPResponseStatus, reason: String) {
        log(head, status: Int(status.code))
        let browser = self.browser
        browser.eventLoop.execute {
            guard let context = try? browser.pipeline.syncOperations.context(handlerType: WebSocketUpgradeHandler.self) else {
                browser.close(promise: nil)
                return
            }
            let body = ByteBuffer(string: "onebz-web: WebSocket upgrade refused: \(reason)\n")
            var headers = HTTPHeaders([
                ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "\(body.readableBytes)"), ("Connection", "close"),
            ])
            headers.add(name: "Onebz-Refusal", value: reason)
            context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in browser.close(promise: nil) }
        }
    }

    private func log(_ head: HTTPRequestHead, status: Int) {
        responder.accessLog.write(
            AccessLog.Entry(
                client: client, method: head.method.rawValue, target: head.uri, version: "HTTP/1.1", status: status, bytes: 0,
                referer: head.headers["referer"].first, userAgent: head.headers["user-agent"].first))
    }
}

/// On the browser's connection after the join: passes every byte it reads to `peer` (the
/// node's connection, whose pipeline has no HTTP handlers), and closes `peer` when its own
/// connection ends.
final class ByteRelayHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let peer: any Channel

    init(peer: any Channel) {
        self.peer = peer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    /// Writes `bytes` to the browser from this handler's place in `browser`'s pipeline: a
    /// write from the pipeline's tail would pass Hummingbird's HTTP handlers, which are
    /// still there, asleep, after the join.
    static func send(_ bytes: ByteBuffer, to browser: any Channel) {
        browser.eventLoop.execute {
            guard let context = try? browser.pipeline.syncOperations.context(handlerType: ByteRelayHandler.self) else {
                browser.close(promise: nil)
                return
            }
            context.writeAndFlush(NIOAny(bytes), promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
