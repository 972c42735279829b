import ConnectionLimits
import NIOCore

/// First in a connection's pipeline: counts the connection against the server's and
/// its client's caps when it becomes active, closes it at once when a cap is reached,
/// and gives its slot back when it closes. Bytes pass through untouched.
final class ConnectionAdmissionHandler: ConnectionLifetimeHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private enum State {
        case idle
        case admitted(ConnectionLimiter.ClientKey?)
        case refused
        case closed
    }

    private let connectionGuard: HTTPConnectionGuard
    private var state = State.idle

    init(guard connectionGuard: HTTPConnectionGuard) {
        self.connectionGuard = connectionGuard
    }

    func connectionStarted(context: ChannelHandlerContext) {
        admit(context)
    }

    func connectionEnded(context: ChannelHandlerContext) {
        release()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A refused connection is being closed: its bytes go nowhere.
        guard case .refused = state else { return context.fireChannelRead(data) }
    }

    private func admit(_ context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        let client = ConnectionLimiter.ClientKey(context.channel.remoteAddress)
        switch connectionGuard.opened(client) {
        case .admit:
            state = .admitted(client)
        case .refuseTotal, .refusePerClient:
            state = .refused
            context.close(promise: nil)
        }
    }

    private func release() {
        if case .admitted(let client) = state { connectionGuard.closed(client) }
        state = .closed
    }
}

@available(*, unavailable)
extension ConnectionAdmissionHandler: Sendable {}
