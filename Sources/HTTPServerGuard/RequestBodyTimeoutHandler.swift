import NIOCore
// Hummingbird's request part type. swift-nio-extras is not a declared dependency of this
// package (it comes with Hummingbird), so this import relies on the module being built.
import NIOHTTPTypes

/// After HTTP decoding: a request whose headers arrived must finish (its body's last
/// byte) within `timeout`, or the connection is closed. Hummingbird's idle timeout is
/// reset by every body part, so without this a client sending one byte every few
/// seconds holds a connection and a request task for ever.
final class RequestBodyTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart

    private enum State {
        case waitingForHead
        case readingBody(Scheduled<Void>)
    }

    private let timeout: TimeAmount
    private let connectionGuard: HTTPConnectionGuard
    private var state = State.waitingForHead

    init(timeout: Duration, guard connectionGuard: HTTPConnectionGuard) {
        self.timeout = TimeAmount(timeout)
        self.connectionGuard = connectionGuard
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head, .waitingForHead):
            state = .readingBody(connectionGuard.closeLater(context, after: timeout, reason: .body))
        case (.end, .readingBody(let deadline)):
            deadline.cancel()
            state = .waitingForHead
        default:
            break
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if case .readingBody(let deadline) = state { deadline.cancel() }
        state = .waitingForHead
    }
}

@available(*, unavailable)
extension RequestBodyTimeoutHandler: Sendable {}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
