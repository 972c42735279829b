import DNSWire
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// What happens to a UDP answer between the engine and the socket: DNS cookies
/// (RFC 7873, RFC 9018), then response-rate limiting. Both are off unless configured;
/// with both off there is no policy at all and answers go out as the engine wrote them.
/// Each UDP socket owns one (the rate limiter's table is per socket).
struct UDPResponsePolicy {
    private var rateLimiter: ResponseRateLimiter?
    private let cookies: DNSCookies?
    private let maxUDPPayload: Int

    /// nil when neither cookies nor rate limiting is configured.
    init?(
        rateLimit: ResponseRateLimiter.Configuration?, cookies: DNSCookies.Configuration?, maxUDPPayload: Int
    ) {
        guard rateLimit != nil || cookies != nil else { return nil }
        self.rateLimiter = rateLimit.map(ResponseRateLimiter.init)
        self.cookies = cookies.map(DNSCookies.init)
        self.maxUDPPayload = maxUDPPayload
    }

    /// The response to send for `request` from `client`, or nil (rate-limited: dropped).
    mutating func finish(
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
            switch (cookies, cookie) {
            case (let cookies?, .client(let c)), (let cookies?, .clientAndServer(let c, _)):
                return cookies.badCookieResponse(
                    to: response, client: c, clientIP: DNSCookies.ipBytes(client), now: now, allocator: allocator)
            default:
                return ResponseRateLimiter.truncated(response, allocator: allocator)
            }
        case .drop:
            return nil
        }
    }

    /// The UDP size limit of the request's answer, as ResponseWriter applies it.
    private func udpLimit(_ request: ByteBuffer) -> Int {
        request.withUnsafeReadableBytes { raw in
            guard case .success(let query) = QueryView.parse(raw) else { return 512 }
            return ResponseWriter.udpLimit(query, maxUDPPayload: maxUDPPayload)
        }
    }
}
