import NIOCore
import NIOTLS

/// A handler that acts when its connection starts and when it ends, whether it was added
/// before or after the channel became active: the admission caps of the HTTP servers
/// (`ConnectionAdmissionHandler`) and the TLS handshake deadlines of DoT and HTTPS
/// (`DoTHandshakeHandler`, `TLSHandshakeTimeoutHandler`).
package protocol ConnectionLifetimeHandler: ChannelInboundHandler {
    /// The connection is active: at once when the handler is added to an active channel,
    /// else on `channelActive`.
    func connectionStarted(context: ChannelHandlerContext)
    /// The connection closed or the handler was removed; both happen, so this runs twice
    /// and must act once.
    func connectionEnded(context: ChannelHandlerContext)
}

extension ConnectionLifetimeHandler {
    package func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { connectionStarted(context: context) }
    }

    package func channelActive(context: ChannelHandlerContext) {
        connectionStarted(context: context)
        context.fireChannelActive()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        connectionEnded(context: context)
        context.fireChannelInactive()
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        connectionEnded(context: context)
    }
}

/// A handler right after a server's TLS handler that watches the handshake (its deadline
/// starts with the connection): `handshakeCompleted` gets NIOTLS's completion event, every
/// other user event passes on.
package protocol TLSHandshakeWatcher: ConnectionLifetimeHandler {
    /// The handshake completed; the implementation passes `event` on.
    func handshakeCompleted(context: ChannelHandlerContext, event: Any)
}

extension TLSHandshakeWatcher {
    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted? = event as? TLSUserEvent {
            handshakeCompleted(context: context, event: event)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
