import DNSWire
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

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
    /// DNS cookies (nil: off).
    private let cookies: DNSCookies?

    init(
        engine: QueryEngine, rateLimit: ResponseRateLimiter.Configuration? = nil,
        cookies: DNSCookies.Configuration? = nil
    ) {
        self.engine = engine
        self.rateLimiter = rateLimit.map(ResponseRateLimiter.init)
        self.cookies = cookies.map(DNSCookies.init)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        switch engine.respond(to: envelope.data, transport: .udp, allocator: context.channel.allocator) {
        case .response(let response):
            guard
                let response = finish(
                    response, request: envelope.data, client: envelope.remoteAddress, allocator: context.channel.allocator)
            else { break }
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
        let handler = NIOLoopBound(self, eventLoop: channel.eventLoop)
        DynamicLookupRunner.resolve(
            pending, request: request.data, transport: .udp, engine: engine, channel: channel
        ) { full in
            // On the channel's event loop (the runner answers there).
            guard
                let response = handler.value.finish(
                    full, request: request.data, client: remote, allocator: channel.allocator)
            else { return }
            ResponseMetrics.record(response, transport: .udp)
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: response), promise: nil)
        }
    }

    /// Cookies, then RRL (both off unless configured): the response to send, or nil.
    private func finish(
        _ response: ByteBuffer, request: ByteBuffer, client: SocketAddress, allocator: ByteBufferAllocator
    ) -> ByteBuffer? {
        var response = response
        var cookie = DNSCookies.RequestCookie.none
        let now = UInt32(truncatingIfNeeded: time(nil))
        if let cookies {
            let processed = cookies.process(
                request: request, response: response, clientIP: DNSCookies.ipBytes(client), now: now,
                allocator: allocator, maxSize: udpLimit(request))
            // RFC 7873 5.4: a valid server cookie proves the source address: not rate-limited.
            if processed.verified { return processed.response }
            (response, cookie) = (processed.response, processed.cookie)
        }
        guard rateLimiter != nil else { return response }
        switch rateLimiter!.decide(client: client, nanoseconds: NIODeadline.now().uptimeNanoseconds) {
        case .send:
            return response
        case .slip:
            // With a client cookie, BADCOOKIE and a fresh cookie (the retry is then exempt).
            if let cookies, case .client(let c) = cookie {
                return cookies.badCookieResponse(
                    to: response, client: c, clientIP: DNSCookies.ipBytes(client), now: now, allocator: allocator)
            }
            if let cookies, case .clientAndServer(let c, _) = cookie {
                return cookies.badCookieResponse(
                    to: response, client: c, clientIP: DNSCookies.ipBytes(client), now: now, allocator: allocator)
            }
            return ResponseRateLimiter.truncated(response, allocator: allocator)
        case .drop:
            return nil
        }
    }

    /// The UDP size limit of the request's answer (RFC 6891 6.2.5), as ResponseWriter applies it.
    private func udpLimit(_ request: ByteBuffer) -> Int {
        request.withUnsafeReadableBytes { raw in
            guard case .success(let query) = QueryView.parse(raw), let edns = query.edns else { return 512 }
            return max(512, min(Int(edns.udpPayloadSize), engine.configuration.maxUDPPayload))
        }
    }
}
