import DNSWire
import Foundation
import NIOCore
import Testing

@testable import OneBZResolver

/// RFC 7873 / RFC 9018 server cookies: SipHash-2-4, validity window, option handling.
struct DNSCookiesTests {
    static let secret: [UInt8] = Array(0..<16)
    static let cookies = DNSCookies(configuration: .init(secret: secret))
    static let client: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
    static let ip: [UInt8] = [192, 0, 2, 1]

    /// The reference vectors of the SipHash paper (key 00..0f, message 00..n-1).
    @Test(arguments: [(0, "310e0edd47db6f72"), (1, "fd67dc93c539f874"), (15, "e545be4961ca29a1"), (63, "724506eb4c328a95")])
    func sipHashReferenceVectors(length: Int, expected: String) {
        let out = SipHash24.hash(key: Array(0..<16), (0..<length).map { UInt8($0) })
        #expect(out.map { String(format: "%02x", $0) }.joined() == expected)
    }

    @Test func serverCookieIsValidForItsClientAndAddressForAnHour() {
        let now: UInt32 = 1_700_000_000
        let server = Self.cookies.serverCookie(client: Self.client, clientIP: Self.ip, timestamp: now)
        #expect(server.count == 16 && server[0] == 1 && server[1...3] == [0, 0, 0])
        #expect(Self.cookies.isValid(server: server, client: Self.client, clientIP: Self.ip, now: now + 3599))
        #expect(!Self.cookies.isValid(server: server, client: Self.client, clientIP: Self.ip, now: now + 3601), "expired")
        #expect(!Self.cookies.isValid(server: server, client: Self.client, clientIP: Self.ip, now: now - 301), "future")
        #expect(!Self.cookies.isValid(server: server, client: Self.client, clientIP: [192, 0, 2, 2], now: now), "other IP")
        #expect(!Self.cookies.isValid(server: server, client: [9, 9, 9, 9, 9, 9, 9, 9], clientIP: Self.ip, now: now))
        var forged = server
        forged[15] ^= 1
        #expect(!Self.cookies.isValid(server: forged, client: Self.client, clientIP: Self.ip, now: now))
        // A rollover: cookies of the previous secret are still accepted.
        let rolled = DNSCookies(configuration: .init(secret: Array(repeating: 7, count: 16), previousSecret: Self.secret))
        #expect(rolled.isValid(server: server, client: Self.client, clientIP: Self.ip, now: now))
    }

    static func request(cookie: [UInt8]?) -> ByteBuffer {
        var message = Message()
        message.header.id = 77
        message.questions = [Question(name: try! Name("www.1bz"), type: .a)]
        message.edns = EDNS(udpPayloadSize: 1232, options: cookie.map { [(code: UInt16(10), data: $0)] } ?? [])
        return ByteBuffer(bytes: try! message.encoded())
    }

    static let engine = QueryEngine(zone: EngineFixture.shippedZone)

    static func answer(_ request: ByteBuffer) -> ByteBuffer {
        guard case .response(let r) = engine.respond(to: request, transport: .udp, allocator: ByteBufferAllocator()) else {
            fatalError("no response")
        }
        return r
    }

    @Test func clientCookieGetsAServerCookieAndReturningItVerifies() throws {
        let now: UInt32 = 1_800_000_000
        let first = Self.request(cookie: Self.client)
        let processed = Self.cookies.process(
            request: first, response: Self.answer(first), clientIP: Self.ip, now: now,
            allocator: ByteBufferAllocator(), maxSize: 1232)
        #expect(processed.cookie == .client(Self.client) && !processed.verified)
        let message = try Message(decoding: Array(processed.response.readableBytesView))
        let option = try #require(message.edns?.options.first { $0.code == 10 })
        #expect(option.data.count == 24 && Array(option.data.prefix(8)) == Self.client)
        #expect(message.answers.count == 1, "the answer itself is unchanged")

        let second = Self.request(cookie: option.data)
        let again = Self.cookies.process(
            request: second, response: Self.answer(second), clientIP: Self.ip, now: now + 10,
            allocator: ByteBufferAllocator(), maxSize: 1232)
        #expect(again.verified)
        // From another address the same cookie proves nothing.
        let spoofed = Self.cookies.process(
            request: second, response: Self.answer(second), clientIP: [203, 0, 113, 1], now: now + 10,
            allocator: ByteBufferAllocator(), maxSize: 1232)
        #expect(!spoofed.verified)
    }

    @Test(arguments: [[UInt8](repeating: 1, count: 7), [UInt8](repeating: 1, count: 12), [UInt8](repeating: 1, count: 41)])
    func malformedCookieIsFORMERR(cookie: [UInt8]) throws {
        let request = Self.request(cookie: cookie)
        let processed = Self.cookies.process(
            request: request, response: Self.answer(request), clientIP: Self.ip, now: 1, allocator: ByteBufferAllocator(),
            maxSize: 1232)
        #expect(processed.cookie == .malformed)
        let message = try Message(decoding: Array(processed.response.readableBytesView))
        #expect(message.rcode == .formErr && message.answers.isEmpty && !message.header.truncated)
    }

    @Test func noCookieLeavesTheResponseAlone() {
        let request = Self.request(cookie: nil)
        let response = Self.answer(request)
        let processed = Self.cookies.process(
            request: request, response: response, clientIP: Self.ip, now: 1, allocator: ByteBufferAllocator(), maxSize: 1232)
        #expect(processed.response == response && processed.cookie == .none)
    }

    @Test func badCookieResponseCarriesExtendedRcodeAndAFreshCookie() throws {
        let request = Self.request(cookie: Self.client)
        let bad = Self.cookies.badCookieResponse(
            to: Self.answer(request), client: Self.client, clientIP: Self.ip, now: 5, allocator: ByteBufferAllocator())
        let message = try Message(decoding: Array(bad.readableBytesView))
        #expect(message.rcode.rawValue == 23, "BADCOOKIE")
        #expect(message.answers.isEmpty && message.questions.count == 1 && message.header.id == 77)
        let option = try #require(message.edns?.options.first { $0.code == 10 })
        #expect(Self.cookies.isValid(server: Array(option.data.dropFirst(8)), client: Self.client, clientIP: Self.ip, now: 5))
    }

    @Test func configuration() throws {
        #expect(try ServerConfiguration(toml: "[server]\n").server.cookies == nil)
        let on = try ServerConfiguration(toml: "[server]\ncookies = true\ncookie_secret = \"000102030405060708090a0b0c0d0e0f\"\n")
        #expect(on.server.cookies?.secret == Self.secret)
        #expect(try ServerConfiguration(toml: "[server]\ncookies = true\n").server.cookies?.secret.count == 16)
        #expect(throws: ConfigurationError.self) { try ServerConfiguration(toml: "[server]\ncookies = true\ncookie_secret = \"xyz\"\n") }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration(toml: "[server]\ncookie_secret = \"000102030405060708090a0b0c0d0e0f\"\n") }
    }
}
