import NIOCore

/// Answers datagrams: one `write` per answer, one `flush` per read burst (NIO then
/// sends the burst with sendmmsg). Never closes the channel on errors: an ICMP error
/// for one client must not stop the socket for everyone.
final class UDPQueryHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let engine: QueryEngine
    private var needsFlush = false

    init(engine: QueryEngine) { self.engine = engine }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        switch engine.respond(to: envelope.data, transport: .udp, allocator: context.channel.allocator) {
        case .response(let response):
            ResponseMetrics.record(response, transport: .udp)
            context.write(
                wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: response)),
                promise: nil)
            needsFlush = true
        case .drop:
            break
        case .lookup(let pending):
            resolveLater(pending, request: envelope, channel: context.channel)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Swallowed on purpose (see type comment); nothing to recover per datagram.
    }

    private func resolveLater(_ pending: PendingLookup, request: AddressedEnvelope<ByteBuffer>, channel: any Channel) {
        let remote = request.remoteAddress
        DynamicLookupRunner.resolve(
            pending, request: request.data, transport: .udp, engine: engine, channel: channel
        ) { response in
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: response), promise: nil)
        }
    }
}
