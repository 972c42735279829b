import NIOCore

/// Answers datagrams: one `write` per answer, one `flush` per read burst (NIO then
/// sends the burst with sendmmsg). Never closes the channel on errors: an ICMP error
/// for one client must not stop the socket for everyone.
final class UDPQueryHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let engine: QueryEngine
    private var needsFlush = false
    /// Response-rate limiting (nil: off), owned by this channel's event loop.
    private var rateLimiter: ResponseRateLimiter?

    init(engine: QueryEngine, rateLimit: ResponseRateLimiter.Configuration? = nil) {
        self.engine = engine
        self.rateLimiter = rateLimit.map(ResponseRateLimiter.init)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        switch engine.respond(to: envelope.data, transport: .udp, allocator: context.channel.allocator) {
        case .response(let response):
            guard let response = limited(response, to: envelope.remoteAddress, allocator: context.channel.allocator)
            else { break }
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

    /// The dynamic-name miss path: await the source off the hot path, then answer.
    private func resolveLater(_ pending: PendingLookup, request: AddressedEnvelope<ByteBuffer>, channel: any Channel) {
        guard let source = engine.dynamicSource else { return }
        let engine = self.engine
        let handler = NIOLoopBound(self, eventLoop: channel.eventLoop)
        channel.eventLoop.makeFutureWithTask {
            await source.resolve(name: pending.name, type: pending.type)
        }.whenSuccess { answer in
            let disposition = engine.respond(
                to: request.data, transport: .udp, allocator: channel.allocator, resolved: answer)
            if case .response(let full) = disposition,
                let response = handler.value.limited(full, to: request.remoteAddress, allocator: channel.allocator)
            {
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: request.remoteAddress, data: response), promise: nil)
            }
        }
    }

    /// RRL: the response as is, truncated (slip), or nil (dropped).
    private func limited(_ response: ByteBuffer, to client: SocketAddress, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard rateLimiter != nil else { return response }
        switch rateLimiter!.decide(client: client, nanoseconds: NIODeadline.now().uptimeNanoseconds) {
        case .send: return response
        case .slip: return ResponseRateLimiter.truncated(response, allocator: allocator)
        case .drop: return nil
        }
    }
}
