import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS

/// One request over a fresh TLS connection: once the handshake is done, checks the
/// server certificate's key against the pin, and only then sends the request; collects
/// the response and completes `promise`. Nothing is sent to a server that fails the pin.
final class PinnedExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case handshaking
        case awaitingHead
        case receiving(status: Int, body: ByteBuffer)
        case done
    }

    private var state = State.handshaking
    private let request: HTTPRequestHead
    private let body: ByteBuffer?
    private let pin: SPKIPin
    private let maxResponseBytes: Int
    private let promise: EventLoopPromise<RegistryResponse>

    init(
        request: HTTPRequestHead, body: ByteBuffer?, pin: SPKIPin, maxResponseBytes: Int,
        promise: EventLoopPromise<RegistryResponse>
    ) {
        self.request = request
        self.body = body
        self.pin = pin
        self.maxResponseBytes = maxResponseBytes
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case .handshakeCompleted = event as? TLSUserEvent, case .handshaking = state else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
        let presented = certificate.flatMap(SPKIPin.init(certificate:))
        guard presented == pin else {
            finish(context, .failure(PinnedHTTPSError.pinMismatch(expected: pin, presented: presented)))
            return
        }
        state = .awaitingHead
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .awaitingHead):
            state = .receiving(status: Int(head.status.code), body: context.channel.allocator.buffer(capacity: 0))
        case (.body(var part), .receiving(let status, var body)):
            guard body.readableBytes + part.readableBytes <= maxResponseBytes else {
                finish(context, .failure(PinnedHTTPSError.responseTooLarge(maxResponseBytes)))
                return
            }
            state = .done  // no copy of `body` while it grows
            body.writeBuffer(&part)
            state = .receiving(status: status, body: body)
        case (.end, .receiving(let status, let body)):
            finish(context, .success(RegistryResponse(status: status, body: body)))
        case (_, .done):
            break
        default:
            finish(context, .failure(PinnedHTTPSError.protocolError("unexpected response part")))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(context, .failure(error))
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context, .failure(PinnedHTTPSError.protocolError("connection closed before the whole response")))
        context.fireChannelInactive()
    }

    private func finish(_ context: ChannelHandlerContext, _ result: Result<RegistryResponse, any Error>) {
        if case .done = state { return }
        state = .done
        promise.completeWith(result)
        context.close(promise: nil)
    }
}

/// Why a pinned HTTPS exchange failed (besides connection and TLS errors).
enum PinnedHTTPSError: Error, CustomStringConvertible {
    case pinMismatch(expected: SPKIPin, presented: SPKIPin?)
    case responseTooLarge(Int)
    case protocolError(String)
    case timeout

    var description: String {
        switch self {
        case .pinMismatch(let expected, let presented):
            "TLS: the server's key \(presented.map { "\($0)" } ?? "(unreadable)") is not the pinned \(expected)"
        case .responseTooLarge(let limit): "response larger than \(limit) bytes"
        case .protocolError(let what): what
        case .timeout: "timed out"
        }
    }
}
