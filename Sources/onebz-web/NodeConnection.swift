import Crypto
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import ServiceLifecycle

/// Why an exchange with a node failed, for the page the browser gets.
enum NodeExchangeError: Error, CustomStringConvertible {
    /// The node's certificate key is not the one the TLSA record publishes.
    case keyMismatch(presented: String)
    case connectFailed(String)
    case timedOut
    /// The connection ended before any of the response: on a reused connection, the node
    /// may have closed it while idle, and an idempotent request is tried once more anew.
    case closedBeforeResponse(String)
    case protocolError(String)

    var description: String {
        switch self {
        case .keyMismatch(let presented): "the certificate's key (SPKI SHA-256 \(presented)) is not the registered one"
        case .connectFailed(let why): "cannot connect: \(why)"
        case .timedOut: "the node did not answer in time"
        case .closedBeforeResponse(let why): "the connection ended before the response (\(why))"
        case .protocolError(let what): what
        }
    }
}

/// A node's response: its head, then its body as it arrives.
struct NodeResponse: Sendable {
    var head: HTTPResponseHead
    var body: AsyncThrowingStream<ByteBuffer, any Error>
}

/// Requests to nodes over TLS connections kept for reuse (`NodePool`). A connection is
/// used only after its handshake, and only if the certificate's SubjectPublicKeyInfo hashes
/// to one of the validated TLSA digests: the certificate chain and names are not checked
/// (DANE-EE, RFC 7671 5.1), the key is, once per connection. Nothing is sent to a node
/// that fails this. A warm request reuses a connection made for the same address, port,
/// name and digests: no handshake.
struct NodeConnector: Sendable {
    let group: any EventLoopGroup
    let context: NIOSSLContext
    let connectTimeout: Duration
    let responseTimeout: Duration
    let pool: NodePool
    private let connects = Counter(label: "onebz_web_node_connections_total")
    private let reuses = Counter(label: "onebz_web_node_connection_reuses_total")

    init(group: any EventLoopGroup, connectTimeout: Duration, responseTimeout: Duration, pool: NodePool) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        // DANE-EE: the key is checked against the TLSA after the handshake (see above).
        configuration.certificateVerification = .none
        // Nodes sign with their Ed25519 identity key; BoringSSL does not offer Ed25519 unless asked.
        configuration.verifySignatureAlgorithms = [
            .ed25519, .ecdsaSecp256R1Sha256, .ecdsaSecp384R1Sha384, .ecdsaSecp521R1Sha512, .rsaPssRsaeSha256,
            .rsaPssRsaeSha384, .rsaPssRsaeSha512, .rsaPkcs1Sha256, .rsaPkcs1Sha384, .rsaPkcs1Sha512,
        ]
        configuration.applicationProtocols = ["http/1.1"]
        context = try NIOSSLContext(configuration: configuration)
        self.group = group
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.pool = pool
    }

    /// `spkiSHA256` nil: plain HTTP (an operator allowed unverified nodes). `eventLoop`: the
    /// browser connection's, where the node connection is taken or made.
    func exchange(
        address: String, port: Int, serverName: String, spkiSHA256: [[UInt8]]?, head: HTTPRequestHead, body: ByteBuffer?,
        on eventLoop: any EventLoop
    ) async throws -> NodeResponse {
        let key = NodeKey(address: address, port: port, serverName: serverName, spkiSHA256: spkiSHA256)
        if let channel = pool.checkout(key, on: eventLoop) {
            reuses.increment()
            do {
                return try await send(on: channel, head: head, body: body)
            } catch NodeExchangeError.closedBeforeResponse where Self.idempotent.contains(head.method) {
                // Closed by the node while idle (a race with its keep-alive timeout): once more, anew.
            }
        }
        let channel = try await connect(key, on: eventLoop)
        connects.increment()
        return try await send(on: channel, head: head, body: body)
    }

    /// RFC 9110 9.2.2: these may be sent again.
    static let idempotent: [HTTPMethod] = [.GET, .HEAD, .OPTIONS, .PUT, .DELETE]

    /// A new connection, once its handshake is done and its key checked.
    private func connect(_ key: NodeKey, on eventLoop: any EventLoop) async throws -> any Channel {
        let ready = eventLoop.makePromise(of: Void.self)
        let (timeout, pool) = (TimeAmount(responseTimeout), self.pool)
        return try await open(key, on: eventLoop, ready: ready) { sync in
            try sync.addHTTPClientHandlers()
            try sync.addHandler(IdleStateHandler(readTimeout: timeout))
            try sync.addHandler(
                NodeConnectionHandler(spkiSHA256: key.spkiSHA256, ready: ready) { channel in
                    pool.checkin(channel, key: key)
                })
        }
    }

    /// A connection to `key` on `eventLoop`: TLS first when the key has TLSA digests, then
    /// what `add` puts after it, whose last handler completes `ready` once the handshake
    /// is done and the key checked. Returns then; a connection that fails either way is
    /// closed, and `ready` failed too when the connect itself failed.
    private func open(
        _ key: NodeKey, on eventLoop: any EventLoop, ready: EventLoopPromise<Void>,
        _ add: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void
    ) async throws -> any Channel {
        let context = self.context
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if key.spkiSHA256 != nil {
                        try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: key.serverName))
                    }
                    try add(sync)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: key.address, port: key.port).get()
        } catch {
            ready.fail(NodeExchangeError.connectFailed("\(error)"))
            throw NodeExchangeError.connectFailed("\(error)")
        }
        do {
            try await ready.futureResult.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return channel
    }

    private func send(on channel: any Channel, head: HTTPRequestHead, body: ByteBuffer?) async throws -> NodeResponse {
        let headPromise = channel.eventLoop.makePromise(of: HTTPResponseHead.self)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ByteBuffer.self, throwing: (any Error).self)
        continuation.onTermination = { termination in
            // The browser went away mid-body: the rest of this response cannot be skipped cheaply.
            if case .cancelled = termination { channel.close(promise: nil) }
        }
        let exchange = NodeExchange(head: head, body: body, headPromise: headPromise, continuation: continuation)
        channel.writeAndFlush(exchange).whenFailure { error in
            headPromise.fail(NodeExchangeError.closedBeforeResponse("\(error)"))
            continuation.finish(throwing: error)
        }
        do {
            return NodeResponse(head: try await headPromise.futureResult.get(), body: stream)
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }
}

extension NodeConnector {
    /// Nil when the node's certificate key (its SubjectPublicKeyInfo) hashes to one of the
    /// TLSA `digests`; else the mismatch, with what was presented.
    static func keyMismatch(_ context: ChannelHandlerContext, _ digests: [[UInt8]]) -> NodeExchangeError? {
        let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
        let spki = certificate.flatMap { try? $0.extractPublicKey().toSPKIBytes() }
        let presented = spki.map { Array(SHA256.hash(data: $0)) }
        guard let presented, digests.contains(presented) else {
            return .keyMismatch(presented: presented.map { $0.map { String(format: "%02x", $0) }.joined() } ?? "(unreadable)")
        }
        return nil
    }

    /// A new connection for a WebSocket upgrade (never pooled): the key checked as for any
    /// request, `request` written, the node's response head read; the caller relays the rest.
    func tunnel(_ key: NodeKey, request: HTTPRequestHead) async throws -> NodeTunnel {
        let eventLoop = group.next()
        let ready = eventLoop.makePromise(of: Void.self)
        let head = eventLoop.makePromise(of: ByteBuffer.self)
        let timeout = TimeAmount(responseTimeout)
        let channel: any Channel
        do {
            channel = try await open(key, on: eventLoop, ready: ready) { sync in
                try sync.addHandler(IdleStateHandler(readTimeout: timeout))
                try sync.addHandler(NodeTunnelHandler(spkiSHA256: key.spkiSHA256, ready: ready, head: head))
            }
        } catch {
            head.fail(error)  // after a failed handshake or key check the handler has failed it already
            throw error
        }
        do {
            connects.increment()
            var text = "\(request.method.rawValue) \(request.uri) HTTP/1.1\r\n"
            for field in request.headers { text += "\(field.name): \(field.value)\r\n" }
            try await channel.writeAndFlush(ByteBuffer(string: text + "\r\n"))
            let responseHead = try await head.futureResult.get()
            let statusLine = responseHead.getString(at: responseHead.readerIndex, length: min(32, responseHead.readableBytes)) ?? ""
            let parts = statusLine.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
                throw NodeExchangeError.protocolError("the node's answer to the upgrade is not HTTP/1.1")
            }
            return NodeTunnel(channel: channel, status: status, head: responseHead)
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }
}

/// A node connection after its answer to an upgrade request: `head` its raw response head.
struct NodeTunnel: Sendable {
    let channel: any Channel
    let status: Int
    let head: ByteBuffer

    /// From now on (and what came after the head), the node's bytes go to `peer`.
    func relay(to peer: any Channel) {
        let channel = self.channel
        channel.eventLoop.execute {
            guard let handler = try? channel.pipeline.syncOperations.handler(type: NodeTunnelHandler.self) else {
                peer.close(promise: nil)
                return
            }
            handler.relay(to: peer)
        }
    }
}

/// On a node connection for an upgrade: checks the key (TLS), collects the response head,
/// holds what follows until `relay(to:)`, then passes every byte to the browser.
final class NodeTunnelHandler: NodeExchangeHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private enum State {
        case connecting
        case awaitingHead(ByteBuffer)
        case holding([ByteBuffer])
        case relaying(any Channel)
        case closed
    }

    /// A response head longer than this is refused.
    static let maxHead = 64 * 1024
    private var state = State.connecting
    let spkiSHA256: [[UInt8]]?
    private let ready: EventLoopPromise<Void>
    private let head: EventLoopPromise<ByteBuffer>

    init(spkiSHA256: [[UInt8]]?, ready: EventLoopPromise<Void>, head: EventLoopPromise<ByteBuffer>) {
        self.spkiSHA256 = spkiSHA256
        self.ready = ready
        self.head = head
    }

    var isConnecting: Bool {
        if case .connecting = state { true } else { false }
    }

    func connected(context: ChannelHandlerContext) {
        state = .awaitingHead(context.channel.allocator.buffer(capacity: 0))
        ready.succeed()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if connects(context, event) { return }
        if event is IdleStateHandler.IdleStateEvent {
            // A WebSocket may be quiet for long; only a node that does not answer the upgrade is cut.
            switch state {
            case .connecting, .awaitingHead: fail(context, NodeExchangeError.timedOut)
            default: return
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        switch state {
        case .awaitingHead(var collected):
            collected.writeBuffer(&bytes)
            let view = collected.readableBytesView
            guard let end = view.firstRange(of: [13, 10, 13, 10]) else {
                if collected.readableBytes > Self.maxHead {
                    fail(context, NodeExchangeError.protocolError("the node's response head is too large"))
                } else {
                    state = .awaitingHead(collected)
                }
                return
            }
            let length = end.upperBound - view.startIndex
            let responseHead = collected.readSlice(length: length)!
            state = .holding(collected.readableBytes > 0 ? [collected] : [])
            head.succeed(responseHead)
        case .holding(var held):
            held.append(bytes)
            state = .holding(held)
        case .relaying(let peer):
            ByteRelayHandler.send(bytes, to: peer)
        case .connecting, .closed:
            break
        }
    }

    func relay(to peer: any Channel) {
        guard case .holding(let held) = state else {
            // The node is gone already.
            peer.close(promise: nil)
            return
        }
        for bytes in held { ByteRelayHandler.send(bytes, to: peer) }
        state = .relaying(peer)
    }

    func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        switch state {
        case .closed: return
        case .connecting:
            ready.fail(error)
            head.fail(error)
        case .awaitingHead: head.fail(error)
        case .holding: break
        case .relaying(let peer): peer.close(promise: nil)
        }
        state = .closed
        context.close(promise: nil)
    }
}

/// One request to write on a node connection, and where its response goes.
struct NodeExchange: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    let headPromise: EventLoopPromise<HTTPResponseHead>
    let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
}

/// The idle connections to nodes, one `IdlePool` (under its own lock) per event loop, so
/// that a request takes a connection on its browser connection's loop and no thread
/// hand-off is needed between the two; `run()` closes those idle too long.
final class NodePool: Service, Sendable {
    private let pools: [ObjectIdentifier: NIOLockedValueBox<IdlePool<PooledChannel>>]
    private let idleGauge = Gauge(label: "onebz_web_node_connections_idle")

    struct PooledChannel: Hashable, Sendable {
        let channel: any Channel
        static func == (a: Self, b: Self) -> Bool { a.channel === b.channel }
        func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(channel)) }
    }

    /// `maxTotal` is shared out among the loops of `group`.
    init(group: any EventLoopGroup, maxPerKey: Int, maxTotal: Int, idleTime: Duration) {
        let loops = Array(group.makeIterator())
        let perLoop = maxTotal == 0 ? 0 : max(1, maxTotal / max(1, loops.count))
        pools = Dictionary(
            uniqueKeysWithValues: loops.map {
                (ObjectIdentifier($0), NIOLockedValueBox(IdlePool(maxPerKey: maxPerKey, maxTotal: perLoop, idleTime: TimeAmount(idleTime))))
            })
    }

    /// An idle connection for `key` on `eventLoop`.
    func checkout(_ key: NodeKey, on eventLoop: any EventLoop) -> (any Channel)? {
        guard let pool = pools[ObjectIdentifier(eventLoop)] else { return nil }
        let (found, close) = pool.withLockedValue { $0.checkout(key, now: .now()) { $0.channel.isActive } }
        for item in close { item.channel.close(promise: nil) }
        return found?.channel
    }

    func checkin(_ channel: any Channel, key: NodeKey) {
        guard let pool = pools[ObjectIdentifier(channel.eventLoop)] else {
            channel.close(promise: nil)
            return
        }
        let close = pool.withLockedValue { $0.checkin(PooledChannel(channel: channel), key: key, now: .now()) }
        for item in close { item.channel.close(promise: nil) }
    }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { try await Task.sleep(for: .seconds(1)) } catch { break }
            var idle = 0
            for pool in pools.values {
                let close = pool.withLockedValue { pool in
                    defer { idle += pool.count }
                    return pool.expire(now: .now())
                }
                for item in close { item.channel.close(promise: nil) }
            }
            idleGauge.record(idle)
        }
        for pool in pools.values {
            for item in pool.withLockedValue({ $0.drain() }) { item.channel.close(promise: nil) }
        }
    }
}

/// On one node connection: checks the key after the handshake (TLS), then writes each
/// `NodeExchange` and passes its response on; when a response has ended and both sides
/// keep the connection alive, hands the connection back (`idle`), else closes it.
final class NodeConnectionHandler: ChannelDuplexHandler, NodeExchangeHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = NodeExchange
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case connecting
        case idle
        case awaitingHead(NodeExchange)
        case streaming(NodeExchange, keepAlive: Bool)
        case closed
    }

    private var state = State.connecting
    let spkiSHA256: [[UInt8]]?
    private let ready: EventLoopPromise<Void>
    private let idle: @Sendable (any Channel) -> Void

    init(spkiSHA256: [[UInt8]]?, ready: EventLoopPromise<Void>, idle: @escaping @Sendable (any Channel) -> Void) {
        self.spkiSHA256 = spkiSHA256
        self.ready = ready
        self.idle = idle
    }

    var isConnecting: Bool {
        if case .connecting = state { true } else { false }
    }

    func connected(context: ChannelHandlerContext) {
        state = .idle
        ready.succeed()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if connects(context, event) { return }
        if event is IdleStateHandler.IdleStateEvent {
            // Idle in the pool is the pool's to time out; otherwise the node is silent.
            if case .idle = state { return }
            fail(context, NodeExchangeError.timedOut)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard case .idle = state else {
            let error = NodeExchangeError.closedBeforeResponse("the connection is not idle")
            exchange.headPromise.fail(error)
            exchange.continuation.finish(throwing: error)
            promise?.fail(error)
            return
        }
        state = .awaitingHead(exchange)
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let body = exchange.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .awaitingHead(let exchange)):
            // 1xx (other than 101, which is not passed through) precede the real head.
            if head.status.code >= 100 && head.status.code < 200 { return }
            state = .streaming(exchange, keepAlive: head.isKeepAlive && exchange.head.isKeepAlive)
            exchange.headPromise.succeed(head)
        case (.body(let part), .streaming(let exchange, _)):
            exchange.continuation.yield(part)
        case (.end, .streaming(let exchange, let keepAlive)):
            exchange.continuation.finish()
            if keepAlive {
                state = .idle
                idle(context.channel)
            } else {
                state = .closed
                context.close(promise: nil)
            }
        case (_, .closed):
            break
        default:
            fail(context, NodeExchangeError.protocolError("the node sent an unexpected response part"))
        }
    }

    func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        switch state {
        case .closed: return
        case .idle: break
        case .connecting: ready.fail(error)
        case .awaitingHead(let exchange):
            let reported =
                switch error {
                case NodeExchangeError.timedOut, NodeExchangeError.closedBeforeResponse: error
                default: NodeExchangeError.closedBeforeResponse("\(error)")
                }
            exchange.headPromise.fail(reported)
            exchange.continuation.finish(throwing: reported)
        case .streaming(let exchange, _):
            let reported =
                if case NodeExchangeError.closedBeforeResponse = error {
                    NodeExchangeError.protocolError("the node closed the connection before the whole response")
                } else {
                    error
                }
            exchange.continuation.finish(throwing: reported)
        }
        state = .closed
        context.close(promise: nil)
    }
}
