import NIOCore

/// DNS cookies (RFC 7873) with interoperable server cookies (RFC 9018): a client that
/// sends a client cookie gets a server cookie bound to its address; when it sends that
/// back, its source address is proven (not spoofed), so response-rate limiting exempts
/// it and a reflection attack cannot use it.
///
/// Server cookie (RFC 9018 4): version 1 | reserved 0 0 0 | timestamp (Unix seconds,
/// 32 bits) | SipHash-2-4(secret, client cookie | version | reserved | timestamp |
/// client IP) -- 16 bytes. Valid for an hour, accepted up to 5 minutes in the future
/// (RFC 9018 4.3); the previous secret is also accepted during a rollover. Anycast
/// instances that share the secret accept each other's cookies.
///
/// Pure: time and addresses are arguments. The transport calls `process`.
package struct DNSCookies: Sendable {
    package struct Configuration: Sendable, Equatable {
        /// 16 bytes (SipHash key).
        package var secret: [UInt8]
        package var previousSecret: [UInt8]?

        package init(secret: [UInt8], previousSecret: [UInt8]? = nil) {
            precondition(secret.count == 16 && (previousSecret?.count ?? 16) == 16, "cookie secrets are 16 bytes")
            self.secret = secret
            self.previousSecret = previousSecret
        }
    }

    /// The COOKIE option of a request (RFC 7873 4).
    package enum RequestCookie: Equatable, Sendable {
        case none
        /// Wrong length (RFC 7873 5.2.2: FORMERR).
        case malformed
        case client([UInt8])
        case clientAndServer(client: [UInt8], server: [UInt8])
    }

    package static let optionCode: UInt16 = 10
    /// RFC 7873 8: BADCOOKIE, extended rcode 23.
    package static let badCookie: UInt16 = 23

    package let configuration: Configuration

    package init(configuration: Configuration) { self.configuration = configuration }

    // MARK: Server cookies

    package func serverCookie(client: [UInt8], clientIP: [UInt8], timestamp: UInt32) -> [UInt8] {
        serverCookie(client: client, clientIP: clientIP, timestamp: timestamp, secret: configuration.secret)
    }

    private func serverCookie(client: [UInt8], clientIP: [UInt8], timestamp: UInt32, secret: [UInt8]) -> [UInt8] {
        let header: [UInt8] = [1, 0, 0, 0] + (0..<4).map { UInt8(truncatingIfNeeded: timestamp >> (24 - 8 * UInt32($0))) }
        return header + SipHash24.hash(key: secret, client + header + clientIP)
    }

    /// Whether `server` is a cookie we made for this client cookie and address, recently.
    package func isValid(server: [UInt8], client: [UInt8], clientIP: [UInt8], now: UInt32) -> Bool {
        guard server.count == 16, server[0] == 1 else { return false }
        let timestamp = server[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        // RFC 9018 4.3, serial-number arithmetic: at most 1 h old, 5 min ahead.
        let age = Int32(bitPattern: now &- timestamp)
        guard age <= 3600, age >= -300 else { return false }
        for secret in [configuration.secret] + (configuration.previousSecret.map { [$0] } ?? []) {
            if serverCookie(client: client, clientIP: clientIP, timestamp: timestamp, secret: secret) == server {
                return true
            }
        }
        return false
    }

    // MARK: The transport's hook

    /// Adds a fresh server cookie to `response` when the request carried a client
    /// cookie; a malformed COOKIE option turns the response into FORMERR.
    package func process(
        request: ByteBuffer, response: ByteBuffer, clientIP: [UInt8], now: UInt32, allocator: ByteBufferAllocator,
        maxSize: Int
    ) -> (response: ByteBuffer, cookie: RequestCookie, verified: Bool) {
        let cookie = request.withUnsafeReadableBytes(Self.requestCookie)
        switch cookie {
        case .none:
            return (response, cookie, false)
        case .malformed:
            return (Self.stripped(response, rcode: 1, allocator: allocator), cookie, false)
        case .client(let client):
            let fresh = serverCookie(client: client, clientIP: clientIP, timestamp: now)
            return (Self.adding(client + fresh, to: response, maxSize: maxSize) ?? response, cookie, false)
        case .clientAndServer(let client, let server):
            let verified = isValid(server: server, client: client, clientIP: clientIP, now: now)
            let fresh = serverCookie(client: client, clientIP: clientIP, timestamp: now)
            return (Self.adding(client + fresh, to: response, maxSize: maxSize) ?? response, cookie, verified)
        }
    }

    /// BADCOOKIE (RFC 7873 5.2.3) for a client that sent a client cookie but no valid
    /// server cookie: header and question of `response`, an OPT with the extended
    /// rcode and a fresh cookie. Small, so it amplifies nothing; sent instead of a
    /// rate-limited response, it lets a real client retry with a cookie.
    package func badCookieResponse(
        to response: ByteBuffer, client: [UInt8], clientIP: [UInt8], now: UInt32, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var out = Self.stripped(response, rcode: UInt8(Self.badCookie & 0x0F), allocator: allocator)
        let option = client + serverCookie(client: client, clientIP: clientIP, timestamp: now)
        out.setInteger(UInt16(1), at: out.readerIndex + 10)  // ARCOUNT: the OPT
        out.writeInteger(UInt8(0))
        out.writeInteger(UInt16(41))
        out.writeInteger(UInt16(1232))
        out.writeInteger(UInt8(Self.badCookie >> 4))
        out.writeInteger(UInt8(0))
        out.writeInteger(UInt16(0))
        out.writeInteger(UInt16(4 + option.count))
        out.writeInteger(Self.optionCode)
        out.writeInteger(UInt16(option.count))
        out.writeBytes(option)
        return out
    }

    // MARK: Wire helpers

    /// The address bytes a server cookie is bound to (4 or 16; empty for others).
    package static func ipBytes(_ address: SocketAddress) -> [UInt8] {
        switch address {
        case .v4(let v4):
            var addr = v4.address.sin_addr
            return withUnsafeBytes(of: &addr) { Array($0) }
        case .v6(let v6):
            var addr = v6.address.sin6_addr
            return withUnsafeBytes(of: &addr) { Array($0) }
        case .unixDomainSocket:
            return []
        }
    }

    /// The COOKIE option of the request's OPT, if any.
    package static func requestCookie(_ raw: UnsafeRawBufferPointer) -> RequestCookie {
        guard let options = optOptions(raw) else { return .none }
        var offset = options.lowerBound
        while offset + 4 <= options.upperBound {
            let code = UInt16(raw[offset]) << 8 | UInt16(raw[offset + 1])
            let length = Int(raw[offset + 2]) << 8 | Int(raw[offset + 3])
            let data = offset + 4
            guard data + length <= options.upperBound else { return .none }
            if code == optionCode {
                // RFC 7873 4: client cookie 8 bytes; server cookie 8 to 32 bytes.
                guard length == 8 || (16...40).contains(length) else { return .malformed }
                let client = Array(raw[data..<(data + 8)])
                return length == 8 ? .client(client) : .clientAndServer(client: client, server: Array(raw[(data + 8)..<(data + length)]))
            }
            offset = data + length
        }
        return .none
    }

    /// Range of the OPT RR's RDATA (its options) in a request, walking every section.
    private static func optOptions(_ raw: UnsafeRawBufferPointer) -> Range<Int>? {
        guard raw.count >= 12 else { return nil }
        func count(_ at: Int) -> Int { Int(raw[at]) << 8 | Int(raw[at + 1]) }
        var offset = 12
        func skipName() -> Bool {
            while offset < raw.count {
                let length = raw[offset]
                if length & 0xC0 == 0xC0 {
                    offset += 2
                    return offset <= raw.count
                }
                guard length < 64 else { return false }
                offset += 1 + Int(length)
                if length == 0 { return offset <= raw.count }
            }
            return false
        }
        for _ in 0..<count(4) {
            guard skipName(), offset + 4 <= raw.count else { return nil }
            offset += 4
        }
        let records = count(6) + count(8) + count(10)
        for index in 0..<records {
            guard skipName(), offset + 10 <= raw.count else { return nil }
            let type = count(offset)
            let length = count(offset + 8)
            let rdata = offset + 10
            guard rdata + length <= raw.count else { return nil }
            if type == 41, index >= count(6) + count(8) { return rdata..<(rdata + length) }
            offset = rdata + length
        }
        return nil
    }

    /// `response` with `option` (a COOKIE) appended to its OPT, which our ResponseWriter
    /// writes last with no options; nil when there is no such OPT or it would not fit.
    static func adding(_ cookie: [UInt8], to response: ByteBuffer, maxSize: Int) -> ByteBuffer? {
        let end = response.readerIndex + response.readableBytes
        guard response.readableBytes >= 12 + 11, response.readableBytes + 4 + cookie.count <= maxSize,
            response.getInteger(at: end - 11, as: UInt8.self) == 0,
            response.getInteger(at: end - 10, as: UInt16.self) == 41,
            response.getInteger(at: end - 2, as: UInt16.self) == 0
        else { return nil }
        var out = response
        out.setInteger(UInt16(4 + cookie.count), at: end - 2)
        out.writeInteger(optionCode)
        out.writeInteger(UInt16(cookie.count))
        out.writeBytes(cookie)
        return out
    }

    /// Header (rcode replaced, no records) and question of a response.
    static func stripped(_ response: ByteBuffer, rcode: UInt8, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = ResponseRateLimiter.truncated(response, allocator: allocator)
        guard out.readableBytes >= 12, let flags = out.getInteger(at: out.readerIndex + 2, as: UInt16.self) else {
            return out
        }
        // truncated() set TC; this is an error answer, not a truncated one.
        out.setInteger((flags & ~UInt16(0x020F)) | UInt16(rcode & 0x0F), at: out.readerIndex + 2)
        return out
    }
}
