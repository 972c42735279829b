import ConnectionLimits
import NIOCore

/// Right after the TLS handler: the handshake must complete within `timeout` of the
/// connection opening, or the connection is closed (nothing else times out before the
/// HTTP handlers exist, which ALPN decides only once the handshake is done). Removes
/// itself when the handshake completes.
final class TLSHandshakeTimeoutHandler: TLSHandshakeWatcher, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private enum State {
        case waiting
        case handshaking(Scheduled<Void>)
        case done
    }

    private let timeout: TimeAmount
    private let connectionGuard: HTTPConnectionGuard
    private var state = State.waiting

    init(timeout: Duration, guard connectionGuard: HTTPConnectionGuard) {
        self.timeout = TimeAmount(timeout)
        self.connectionGuard = connectionGuard
    }

    func connectionStarted(context: ChannelHandlerContext) {
        start(context)
    }

    func connectionEnded(context: ChannelHandlerContext) {
        finish()
    }

    func handshakeCompleted(context: ChannelHandlerContext, event: Any) {
        finish()
        context.fireUserInboundEventTriggered(event)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard case .waiting = state else { return }
        state = .handshaking(connectionGuard.closeLater(context, after: timeout, reason: .tlsHandshake))
    }

    private func finish() {
        if case .handshaking(let deadline) = state { deadline.cancel() }
        state = .done
    }
}

@available(*, unavailable)
extension TLSHandshakeTimeoutHandler: Sendable {}
