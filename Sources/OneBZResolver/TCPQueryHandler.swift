import NIOCore

/// Answers length-framed queries on one TCP connection, in arrival order except for
/// dynamic lookups (RFC 7766 6.2.1.1 allows out-of-order answers). Closes the
/// connection when idle, and stops reading while the client does not read its answers,
/// so a slow client only holds up itself.
final class TCPQueryHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private let engine: QueryEngine
    private var needsFlush = false

    init(engine: QueryEngine) { self.engine = engine }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = unwrapInboundIn(data)
        switch engine.respond(to: request, transport: .tcp, allocator: context.channel.allocator) {
        case .response(let response):
            ResponseMetrics.record(response, transport: .tcp)
            context.write(wrapOutboundOut(Self.framed(response, allocator: context.channel.allocator)), promise: nil)
            needsFlush = true
        case .drop:
            break
        case .lookup(let pending):
            resolveLater(pending, request: request, channel: context.channel)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Backpressure: do not read more queries than the client takes answers.
        context.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        if context.channel.isWritable { context.read() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)  // RFC 7766 6.2.3: the server may close idle connections
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    static func framed(_ response: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var framed = allocator.buffer(capacity: response.readableBytes + 2)
        framed.writeInteger(UInt16(response.readableBytes))
        framed.writeImmutableBuffer(response)
        return framed
    }

    private func resolveLater(_ pending: PendingLookup, request: ByteBuffer, channel: any Channel) {
        DynamicLookupRunner.resolve(pending, request: request, transport: .tcp, engine: engine, channel: channel) {
            response in
            ResponseMetrics.record(response, transport: .tcp)
            channel.writeAndFlush(Self.framed(response, allocator: channel.allocator), promise: nil)
        }
    }
}
