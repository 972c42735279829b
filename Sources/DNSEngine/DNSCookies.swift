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
/// Pure and allocation-free: the engine hands it the COOKIE option's bytes as found by
/// the one EDNS parse (`QueryView`), the client address and the time; the verdict's
/// cookie goes into the response plan's OPT.
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

    /// What a request's COOKIE option means for its response.
    package enum Verdict: Sendable, Equatable {
        /// No COOKIE option.
        case none
        /// Wrong length (RFC 7873 5.2.2: FORMERR).
        case malformed
        /// A client cookie, alone or with a server cookie that did not verify (expired,
        /// another secret, another address): answer normally with a fresh cookie.
        case fresh(ResponseCookie)
        /// A valid server cookie: the source address is proven (RFC 7873 5.2.4).
        case verified(ResponseCookie)

        package var isVerified: Bool {
            if case .verified = self { return true }
            return false
        }

        /// The cookie to put in the response's OPT.
        package var cookie: ResponseCookie? {
            switch self {
            case .none, .malformed: nil
            case .fresh(let cookie), .verified(let cookie): cookie
            }
        }
    }

    /// RFC 7873 8: BADCOOKIE, extended rcode 23.
    package static let badCookie: UInt16 = 23

    package let configuration: Configuration
    private let key: SipHash24.Key
    private let previousKey: SipHash24.Key?

    package init(configuration: Configuration) {
        self.configuration = configuration
        key = SipHash24.Key(configuration.secret)
        previousKey = configuration.previousSecret.map(SipHash24.Key.init)
    }

    /// The verdict on a COOKIE option's data (`option`, as located in the request),
    /// for `client` at Unix time `now`.
    package func evaluate(option: UnsafeRawBufferPointer, client: ClientAddress?, now: UInt32) -> Verdict {
        // RFC 7873 4: client cookie 8 bytes; server cookie 8 to 32 bytes.
        guard option.count == 8 || (16...40).contains(option.count) else { return .malformed }
        let clientCookie = option.loadUnaligned(as: UInt64.self)
        let fresh = ResponseCookie(client: clientCookie, server: serverCookie(clientCookie, client, now, key))
        let server = UnsafeRawBufferPointer(rebasing: option[8...])
        guard option.count > 8, isValid(server: server, clientCookie, client, now) else { return .fresh(fresh) }
        return .verified(fresh)
    }

    // MARK: Server cookies

    /// Whether `server` is a cookie we made for this client cookie and address, recently.
    private func isValid(
        server: UnsafeRawBufferPointer, _ clientCookie: UInt64, _ client: ClientAddress?, _ now: UInt32
    ) -> Bool {
        guard server.count == 16, server[0] == 1 else { return false }
        let timestamp = (4..<8).reduce(UInt32(0)) { $0 << 8 | UInt32(server[$1]) }
        // RFC 9018 4.3, serial-number arithmetic: at most 1 h old, 5 min ahead.
        let age = Int32(bitPattern: now &- timestamp)
        guard age <= 3600, age >= -300 else { return false }
        let presented = server.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        for key in [key, previousKey] {
            guard let key else { continue }
            if serverCookie(clientCookie, client, timestamp, key).hash == presented { return true }
        }
        return false
    }

    /// The 16-byte server cookie for a client cookie (its 8 wire bytes as loaded), an
    /// address and a timestamp.
    private func serverCookie(
        _ clientCookie: UInt64, _ client: ClientAddress?, _ timestamp: UInt32, _ key: SipHash24.Key
    ) -> ServerCookie {
        // version 1, reserved 0 0 0, timestamp big-endian: the 8 wire bytes, as one word.
        var header: UInt64 = 0
        withUnsafeMutableBytes(of: &header) {
            $0.storeBytes(of: UInt32(0x0100_0000).bigEndian, toByteOffset: 0, as: UInt32.self)
            $0.storeBytes(of: timestamp.bigEndian, toByteOffset: 4, as: UInt32.self)
        }
        var input: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let hash = withUnsafeMutableBytes(of: &input) { buffer -> UInt64 in
            buffer.storeBytes(of: clientCookie, toByteOffset: 0, as: UInt64.self)
            buffer.storeBytes(of: header, toByteOffset: 8, as: UInt64.self)
            let ipLength = client?.withBytes { ip in
                UnsafeMutableRawBufferPointer(rebasing: buffer[16..<(16 + ip.count)]).copyMemory(from: ip)
                return ip.count
            } ?? 0
            return SipHash24.hash(key: key, UnsafeRawBufferPointer(rebasing: buffer[0..<(16 + ipLength)]))
        }
        // The hash's wire form is its little-endian bytes.
        return ServerCookie(header: header, hash: hash.littleEndian)
    }

    // MARK: Conveniences for tests and tools (allocating)

    package func serverCookie(client: [UInt8], clientIP: [UInt8], timestamp: UInt32) -> [UInt8] {
        let cookie = serverCookie(
            client.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }, ClientAddress(clientIP), timestamp, key)
        return withUnsafeBytes(of: cookie) { Array($0) }
    }

    package func isValid(server: [UInt8], client: [UInt8], clientIP: [UInt8], now: UInt32) -> Bool {
        server.withUnsafeBytes { server in
            isValid(
                server: server, client.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }, ClientAddress(clientIP),
                now)
        }
    }
}

/// A server cookie (RFC 9018 4) as its 16 wire bytes, inline.
package struct ServerCookie: Sendable, Equatable {
    /// version, reserved, timestamp: the first 8 wire bytes as loaded from memory.
    let header: UInt64
    /// The SipHash result in wire order (its little-endian bytes) as loaded from memory.
    let hash: UInt64
}

/// The COOKIE option a response carries (RFC 7873 4): the client's 8 bytes and our
/// 16-byte server cookie, inline, written by the response plan's OPT.
package struct ResponseCookie: Sendable, Equatable {
    /// The option's data length.
    package static let length = 24
    /// The client cookie's 8 wire bytes as loaded from memory.
    let client: UInt64
    let server: ServerCookie

    /// Writes the 24 data bytes at `offset`.
    func write(into out: UnsafeMutableRawBufferPointer, at offset: Int) {
        out.storeBytes(of: client, toByteOffset: offset, as: UInt64.self)
        out.storeBytes(of: server.header, toByteOffset: offset + 8, as: UInt64.self)
        out.storeBytes(of: server.hash, toByteOffset: offset + 16, as: UInt64.self)
    }

    /// The 24 data bytes (tests).
    package var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.length) { buffer, count in
            write(into: UnsafeMutableRawBufferPointer(buffer), at: 0)
            count = Self.length
        }
    }
}
