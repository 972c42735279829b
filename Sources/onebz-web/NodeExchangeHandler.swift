import NIOCore
import NIOTLS

/// A handler on a node connection (`NodeConnectionHandler`, `NodeTunnelHandler`): usable
/// once active (plain HTTP) or once the TLS handshake shows one of the node's keys; an
/// error, or the node closing the connection, fails whatever exchange is in progress.
protocol NodeExchangeHandler: ChannelInboundHandler {
    /// The SHA-256 digests of the node's keys (its TLSA), nil for plain HTTP.
    var spkiSHA256: [[UInt8]]? { get }
    /// Nothing has happened on the connection yet but its opening.
    var isConnecting: Bool { get }
    /// The connection is usable: leave `isConnecting` and say so.
    func connected(context: ChannelHandlerContext)
    /// Fails the exchange in progress with `error` (once; later calls do nothing).
    func fail(_ context: ChannelHandlerContext, _ error: any Error)
}

extension NodeExchangeHandler {
    func channelActive(context: ChannelHandlerContext) {
        if spkiSHA256 == nil, isConnecting { connected(context: context) }
        context.fireChannelActive()
    }

    /// Whether `event` was the TLS handshake's completion on a connection still opening,
    /// handled: connected with one of the node's keys, else failed with the mismatch.
    func connects(_ context: ChannelHandlerContext, _ event: Any) -> Bool {
        guard case .handshakeCompleted = event as? TLSUserEvent, isConnecting, let digests = spkiSHA256 else {
            return false
        }
        if let mismatch = NodeConnector.keyMismatch(context, digests) {
            fail(context, mismatch)
        } else {
            connected(context: context)
        }
        return true
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context, NodeExchangeError.closedBeforeResponse("the node closed the connection"))
        context.fireChannelInactive()
    }
}
