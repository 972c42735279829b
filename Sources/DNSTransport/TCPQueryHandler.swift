import DNSEngine
import NIOCore

/// Answers length-framed queries on one TCP connection, in arrival order except for
/// dynamic lookups (RFC 7766 6.2.1.1 allows out-of-order answers). Closes the
/// connection when idle, and stops reading while the client does not read its answers,
/// so a slow client only holds up itself. Cookies (RFC 7873 allows them on TCP) are
/// bound to the peer's address; TCP is never rate-limited.
final class TCPQueryHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private let engine: QueryEngine
    /// The peer's address, read once per connection.
    private var client: ClientAddress?
    private var needsFlush = false

    init(engine: QueryEngine) { self.engine = engine }

    func channelActive(context: ChannelHandlerContext) {
        client = context.channel.remoteAddress.flatMap(ClientAddress.init)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = unwrapInboundIn(data)
        let queryContext = self.queryContext
        let disposition = engine.respond(
            to: request, transport: .tcp, allocator: context.channel.allocator, context: queryContext)
        switch disposition {
        case .response(let response):
            ResponseMetrics.record(response.bytes, transport: .tcp)
            let framed = Self.framed(response.bytes, allocator: context.channel.allocator)
            context.write(wrapOutboundOut(framed), promise: nil)
            needsFlush = true
        case .drop:
            break
        case .lookup(let pending):
            resolveLater(pending, request: request, context: queryContext, channel: context.channel)
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

    /// The client and the time, when cookies need them.
    private var queryContext: QueryContext { engine.context(for: client) }

    /// The miss path: resolve off the event loop, then answer on it (framed, counted).
    private func resolveLater(
        _ pending: PendingLookup, request: ByteBuffer, context: QueryContext, channel: any Channel
    ) {
        let engine = self.engine
        channel.eventLoop.makeFutureWithTask {
            let resolved = await engine.resolve(pending)
            return engine.respond(
                to: request, transport: .tcp, allocator: channel.allocator, context: context, resolved: resolved)
        }.whenSuccess { disposition in
            guard case .response(let response) = disposition else { return }
            ResponseMetrics.record(response.bytes, transport: .tcp)
            channel.writeAndFlush(Self.framed(response.bytes, allocator: channel.allocator), promise: nil)
        }
    }
}
