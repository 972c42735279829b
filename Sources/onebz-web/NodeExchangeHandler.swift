import NIOCore

/// A handler on a node connection (`NodeConnectionHandler`, `NodeTunnelHandler`): an
/// error, or the node closing the connection, fails whatever exchange is in progress.
protocol NodeExchangeHandler: ChannelInboundHandler {
    /// Fails the exchange in progress with `error` (once; later calls do nothing).
    func fail(_ context: ChannelHandlerContext, _ error: any Error)
}

extension NodeExchangeHandler {
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context, NodeExchangeError.closedBeforeResponse("the node closed the connection"))
        context.fireChannelInactive()
    }
}
