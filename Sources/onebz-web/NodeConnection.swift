import Crypto
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS

/// Why an exchange with a node failed, for the page the browser gets.
enum NodeExchangeError: Error, CustomStringConvertible {
    /// The node's certificate key is not the one the TLSA record publishes.
    case keyMismatch(presented: String)
    case connectFailed(String)
    case timedOut
    case protocolError(String)

    var description: String {
        switch self {
        case .keyMismatch(let presented): "the certificate's key (SPKI SHA-256 \(presented)) is not the registered one"
        case .connectFailed(let why): "cannot connect: \(why)"
        case .timedOut: "the node did not answer in time"
        case .protocolError(let what): what
        }
    }
}

/// A node's response: its head, then its body as it arrives.
struct NodeResponse: Sendable {
    var head: HTTPResponseHead
    var body: AsyncThrowingStream<ByteBuffer, any Error>
}

/// One request to a node over a fresh connection. With TLS, the request is written only
/// after the handshake, and only if the certificate's SubjectPublicKeyInfo hashes to one of
/// the validated TLSA digests: the certificate chain and names are not checked (DANE-EE,
/// RFC 7671 5.1), the key is. Nothing is sent to a node that fails this.
struct NodeConnector: Sendable {
    let group: any EventLoopGroup
    let context: NIOSSLContext
    let connectTimeout: Duration
    let responseTimeout: Duration

    init(group: any EventLoopGroup, connectTimeout: Duration, responseTimeout: Duration) throws {
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
    }

    /// `spkiSHA256` nil: plain HTTP (an operator allowed unverified nodes).
    func exchange(
        address: String, port: Int, serverName: String, spkiSHA256: [[UInt8]]?, head: HTTPRequestHead, body: ByteBuffer?
    ) async throws -> NodeResponse {
        let eventLoop = group.next()
        let headPromise = eventLoop.makePromise(of: HTTPResponseHead.self)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ByteBuffer.self, throwing: (any Error).self)
        let (context, timeout) = (self.context, TimeAmount(responseTimeout))
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if spkiSHA256 != nil {
                        try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                    }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(IdleStateHandler(readTimeout: timeout))
                    try sync.addHandler(
                        NodeExchangeHandler(
                            request: head, body: body, spkiSHA256: spkiSHA256, headPromise: headPromise,
                            stream: continuation))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: address, port: port).get()
        } catch {
            headPromise.fail(NodeExchangeError.connectFailed("\(error)"))
            continuation.finish(throwing: error)
            throw NodeExchangeError.connectFailed("\(error)")
        }
        continuation.onTermination = { _ in channel.close(promise: nil) }
        do {
            let responseHead = try await headPromise.futureResult.get()
            return NodeResponse(head: responseHead, body: stream)
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }
}

/// Checks the key (TLS), writes the request, passes the response on.
final class NodeExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case connecting
        case awaitingHead
        case streaming
        case done
    }

    private var state = State.connecting
    private let request: HTTPRequestHead
    private let requestBody: ByteBuffer?
    private let spkiSHA256: [[UInt8]]?
    private let headPromise: EventLoopPromise<HTTPResponseHead>
    private let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation

    init(
        request: HTTPRequestHead, body: ByteBuffer?, spkiSHA256: [[UInt8]]?, headPromise: EventLoopPromise<HTTPResponseHead>,
        stream continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    ) {
        self.request = request
        requestBody = body
        self.spkiSHA256 = spkiSHA256
        self.headPromise = headPromise
        self.continuation = continuation
    }

    func channelActive(context: ChannelHandlerContext) {
        if spkiSHA256 == nil { send(context) }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent, case .connecting = state, let digests = spkiSHA256 {
            let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
            let spki = certificate.flatMap { try? $0.extractPublicKey().toSPKIBytes() }
            let presented = spki.map { Array(SHA256.hash(data: $0)) }
            guard let presented, digests.contains(presented) else {
                fail(
                    context,
                    NodeExchangeError.keyMismatch(
                        presented: presented.map { $0.map { String(format: "%02x", $0) }.joined() } ?? "(unreadable)"))
                return
            }
            send(context)
            return
        }
        if event is IdleStateHandler.IdleStateEvent {
            fail(context, NodeExchangeError.timedOut)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func send(_ context: ChannelHandlerContext) {
        guard case .connecting = state else { return }
        state = .awaitingHead
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        if let requestBody, requestBody.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(requestBody))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .awaitingHead):
            // 1xx (other than 101, which is not passed through) precede the real head.
            if head.status.code >= 100 && head.status.code < 200 { return }
            state = .streaming
            headPromise.succeed(head)
        case (.body(let part), .streaming):
            continuation.yield(part)
        case (.end, .streaming):
            state = .done
            continuation.finish()
            context.close(promise: nil)
        case (_, .done):
            break
        default:
            fail(context, NodeExchangeError.protocolError("the node sent an unexpected response part"))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context, NodeExchangeError.protocolError("the node closed the connection before the whole response"))
        context.fireChannelInactive()
    }

    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        switch state {
        case .done: return
        case .streaming: continuation.finish(throwing: error)
        case .connecting, .awaitingHead:
            headPromise.fail(error)
            continuation.finish(throwing: error)
        }
        state = .done
        context.close(promise: nil)
    }
}
