import DNSEngine
import DNSWire
import NIOCore
import ZoneTransfer

#if canImport(Glibc)
    import Glibc
#endif

/// Answers length-framed queries on one TCP connection, in arrival order except for
/// dynamic lookups (RFC 7766 6.2.1.1 allows out-of-order answers). Closes the
/// connection when idle, and stops reading while the client does not read its answers,
/// so a slow client only holds up itself. Cookies (RFC 7873 allows them on TCP) are
/// bound to the peer's address; TCP is never rate-limited.
///
/// DNS over TLS runs this same handler behind the TLS handler: `padding` pads answers
/// to padded queries (RFC 7830, RFC 8467), and the `ChannelSecurity` event the
/// handshake handler sends marks the connection as TLS for the transfer ACL (XoT).
final class TCPQueryHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private let engine: QueryEngine
    /// Zone transfers and TSIG (nil: not configured; AXFR/IXFR are REFUSED by the engine).
    private let transfers: ZoneTransferResponder?
    private let observer: TransferObserver?
    /// Unix seconds, for TSIG.
    private let clock: @Sendable () -> UInt64
    /// EDNS(0) padding of answers to padded queries (on TLS only: RFC 8467 4).
    private let padding: Bool
    /// Plain TCP, or TLS once the handshake handler says so.
    private var security = ChannelSecurity.none
    /// The peer's address, read once per connection.
    private var client: ClientAddress?
    private var needsFlush = false
    /// The transfer being sent; requests arriving meanwhile wait in `queued`.
    private var stream: TransferStream?
    private var queued: [ByteBuffer] = []
    private var pumping = false
    private var resumeScheduled = false

    /// Messages written per event-loop turn before yielding to other connections.
    static let messagesPerTurn = 8
    /// A transfer whose client takes nothing for this long is abandoned (Knot's
    /// tcp-io-timeout does the same), so a stalled secondary cannot hold a connection.
    static let transferStallTimeout: TimeAmount = .seconds(60)
    private var stallCheck: Scheduled<Void>?

    init(
        engine: QueryEngine, transfers: ZoneTransferResponder? = nil, observer: TransferObserver? = nil,
        padding: Bool = false, clock: @escaping @Sendable () -> UInt64 = { UInt64(time(nil)) }
    ) {
        self.engine = engine
        self.transfers = transfers
        self.observer = observer
        self.padding = padding
        self.clock = clock
    }

    func channelActive(context: ChannelHandlerContext) {
        client = context.channel.remoteAddress.flatMap(ClientAddress.init)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = unwrapInboundIn(data)
        guard stream == nil else {
            // RFC 7766 6.2.1.1: answers may wait; this one waits for the transfer.
            queued.append(request)
            return
        }
        answer(request, context: context)
    }

    private func answer(_ request: ByteBuffer, context: ChannelHandlerContext) {
        if let transfers, request.withUnsafeReadableBytes(ZoneTransferResponder.claims) {
            let outcome = request.withUnsafeReadableBytes { raw in
                transfers.respond(to: raw, transport: .tcp, client: client, now: clock(), channel: security)
            }
            switch outcome {
            case .notForUs:
                break
            case .query(let unsigned, let signer):
                answerSigned(ByteBuffer(bytes: unsigned), signer: signer, context: context)
                return
            case .reply(let bytes, let event):
                observer?.record(event, client: client, transport: .tcp, tls: security.isTLS)
                write(ByteBuffer(bytes: bytes), context: context)
                return
            case .stream(let transfer, let event):
                observer?.record(event, client: client, transport: .tcp, tls: security.isTLS)
                stream = transfer
                // Reading resumes when the transfer is sent.
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
                pump(context: context)
                return
            }
        }
        let queryContext = self.queryContext
        let disposition = engine.respond(
            to: request, transport: .tcp, allocator: context.channel.allocator, context: queryContext)
        switch disposition {
        case .response(let response):
            let bytes = Self.padded(response.bytes, request: request, enabled: padding)
            ResponseMetrics.record(bytes, transport: .tcp)
            let framed = Self.framed(bytes, allocator: context.channel.allocator)
            context.write(wrapOutboundOut(framed), promise: nil)
            needsFlush = true
        case .drop:
            break
        case .lookup(let pending):
            resolveLater(pending, request: request, context: queryContext, channel: context.channel)
        }
    }

    private func write(_ response: ByteBuffer, context: ChannelHandlerContext) {
        ResponseMetrics.record(response, transport: .tcp)
        context.write(wrapOutboundOut(Self.framed(response, allocator: context.channel.allocator)), promise: nil)
        needsFlush = true
    }

    /// A TSIG-signed query: the engine answers the unsigned request, the answer is signed.
    private func answerSigned(_ request: ByteBuffer, signer: TSIGSigner, context: ChannelHandlerContext) {
        let queryContext = self.queryContext
        switch engine.respond(to: request, transport: .tcp, allocator: context.channel.allocator, context: queryContext) {
        case .response(let response):
            let bytes = Self.padded(response.bytes, request: request, enabled: padding)
            write(Self.signed(bytes, signer: signer, now: clock()), context: context)
        case .drop:
            break
        case .lookup(let pending):
            resolveLater(pending, request: request, context: queryContext, channel: context.channel, signer: signer)
        }
    }

    /// RFC 8467 4.1: a response to a padded query is padded to a multiple of 468
    /// octets (before any TSIG signature, which covers it). Unpadded when it cannot be.
    static func padded(_ response: ByteBuffer, request: ByteBuffer, enabled: Bool) -> ByteBuffer {
        guard enabled, request.withUnsafeReadableBytes(EDNSPadding.isRequested),
            let bytes = response.withUnsafeReadableBytes({ EDNSPadding.padded($0) })
        else { return response }
        return ByteBuffer(bytes: bytes)
    }

    static func signed(_ response: ByteBuffer, signer: TSIGSigner, now: UInt64) -> ByteBuffer {
        ByteBuffer(bytes: signer.signedAnswer(Array(response.readableBytesView), limit: nil, now: now))
    }

    /// Writes the transfer's messages while the channel is writable, a few per turn of
    /// the event loop (so one transfer cannot starve the loop's other connections);
    /// resumes on writability (`channelWritabilityChanged`). Not re-entered: a flush can
    /// report writability from inside.
    private func pump(context: ChannelHandlerContext) {
        guard !pumping, stream != nil else { return }
        pumping = true
        var written = 0
        while context.channel.isWritable, written < Self.messagesPerTurn, let message = stream!.next(now: clock()) {
            write(ByteBuffer(bytes: message), context: context)
            written += 1
        }
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        pumping = false
        guard let transfer = stream else { return }
        if transfer.isFinished {
            observer?.finished(transfer, client: client, completed: true)
            stream = nil
            context.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
            drainQueued(context: context)
        } else if !context.channel.isWritable {
            watchForStall(context: context)
        } else if !resumeScheduled {
            resumeScheduled = true
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.execute {
                bound.value.0.resumeScheduled = false
                bound.value.0.pump(context: bound.value.1)
            }
        }
    }

    /// Closes the connection if the transfer has not moved when the timeout passes.
    private func watchForStall(context: ChannelHandlerContext) {
        guard stallCheck == nil, let sent = stream?.messageCount else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        stallCheck = context.eventLoop.scheduleTask(in: Self.transferStallTimeout) {
            let (handler, context) = bound.value
            handler.stallCheck = nil
            guard let transfer = handler.stream else { return }
            if transfer.messageCount == sent {
                context.close(promise: nil)
            } else if !context.channel.isWritable {
                handler.watchForStall(context: context)
            }
        }
    }

    /// Answers the requests that arrived during a transfer (stopping at another one).
    private func drainQueued(context: ChannelHandlerContext) {
        while stream == nil, !queued.isEmpty {
            answer(queued.removeFirst(), context: context)
        }
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        if stream == nil, context.channel.isWritable { context.read() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let transfer = stream {
            observer?.finished(transfer, client: client, completed: false)
            stream = nil
        }
        stallCheck?.cancel()
        stallCheck = nil
        context.fireChannelInactive()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if stream != nil {
            // A transfer waits for the client to take what was sent.
            if context.channel.isWritable { pump(context: context) }
            context.fireChannelWritabilityChanged()
            return
        }
        // Backpressure: do not read more queries than the client takes answers.
        context.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        if context.channel.isWritable { context.read() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let established = event as? ChannelSecurity {
            security = established
        } else if event is IdleStateHandler.IdleStateEvent {
            // A transfer reads nothing while it sends: the connection is busy, not idle.
            guard stream == nil else { return }
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
        _ pending: PendingLookup, request: ByteBuffer, context: QueryContext, channel: any Channel,
        signer: TSIGSigner? = nil
    ) {
        let engine = self.engine
        let clock = self.clock
        let padding = self.padding
        channel.eventLoop.makeFutureWithTask {
            let resolved = await engine.resolve(pending)
            return engine.respond(
                to: request, transport: .tcp, allocator: channel.allocator, context: context, resolved: resolved)
        }.whenSuccess { disposition in
            guard case .response(let response) = disposition else { return }
            let answer = Self.padded(response.bytes, request: request, enabled: padding)
            let bytes = signer.map { Self.signed(answer, signer: $0, now: clock()) } ?? answer
            ResponseMetrics.record(bytes, transport: .tcp)
            channel.writeAndFlush(Self.framed(bytes, allocator: channel.allocator), promise: nil)
        }
    }
}
