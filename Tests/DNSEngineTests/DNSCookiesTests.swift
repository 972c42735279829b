import DNSTestSupport
import DNSWire
import Foundation
import NIOCore
import Testing

@testable import DNSEngine

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

    static func request(cookie: [UInt8]?) -> [UInt8] {
        var message = Message()
        message.header.id = 77
        message.questions = [Question(name: try! Name("www.1bz"), type: .a)]
        message.edns = EDNS(udpPayloadSize: 1232, options: cookie.map { [(code: UInt16(10), data: $0)] } ?? [])
        return try! message.encoded()
    }

    static let engine: QueryEngine = {
        var configuration = QueryEngine.Configuration()
        configuration.cookies = .init(secret: secret)
        return QueryEngine(zone: EngineFixture.shippedZone, configuration: configuration)
    }()

    static func context(_ ip: [UInt8] = ip, now: UInt32) -> QueryContext {
        QueryContext(client: ClientAddress(ip), unixTime: now)
    }

    static func answer(
        _ request: [UInt8], transport: Transport = .udp, context: QueryContext, engine: QueryEngine = engine
    ) throws -> Message {
        try Message(decoding: try #require(engine.respond(to: request, transport: transport, context: context)))
    }

    static func serverCookie(_ message: Message) -> [UInt8]? {
        message.edns?.options.first { $0.code == 10 }.map { Array($0.data.dropFirst(8)) }
    }

    @Test(arguments: [Transport.udp, .tcp])
    func clientCookieGetsAServerCookieAndReturningItVerifies(transport: Transport) throws {
        let now: UInt32 = 1_800_000_000
        let first = try Self.answer(Self.request(cookie: Self.client), transport: transport, context: Self.context(now: now))
        let option = try #require(first.edns?.options.first { $0.code == 10 })
        #expect(option.data.count == 24 && Array(option.data.prefix(8)) == Self.client)
        #expect(first.answers.count == 1, "the answer itself is unchanged")
        let server = try #require(Self.serverCookie(first))
        #expect(Self.cookies.isValid(server: server, client: Self.client, clientIP: Self.ip, now: now + 10))
        // From another address the same cookie proves nothing.
        #expect(!Self.cookies.isValid(server: server, client: Self.client, clientIP: [203, 0, 113, 1], now: now + 10))
        // Sent back, it is answered with a fresh cookie.
        let again = try Self.answer(Self.request(cookie: option.data), context: Self.context(now: now + 10))
        #expect(again.answers.count == 1 && Self.serverCookie(again)?.count == 16)
    }

    @Test(arguments: [[UInt8](repeating: 1, count: 7), [UInt8](repeating: 1, count: 12), [UInt8](repeating: 1, count: 41)])
    func malformedCookieIsFORMERR(cookie: [UInt8]) throws {
        let message = try Self.answer(Self.request(cookie: cookie), context: Self.context(now: 1))
        #expect(message.rcode == .formErr && message.answers.isEmpty && !message.header.truncated)
    }

    @Test func noCookieLeavesTheResponseAlone() throws {
        let request = Self.request(cookie: nil)
        let plain = QueryEngine(zone: EngineFixture.shippedZone)
        #expect(
            Self.engine.respond(to: request, transport: .udp, context: Self.context(now: 1))
                == plain.respond(to: request, transport: .udp))
    }

    @Test func withCookiesOffTheOptionIsIgnored() throws {
        let plain = QueryEngine(zone: EngineFixture.shippedZone)
        let message = try Self.answer(Self.request(cookie: [1, 2]), context: Self.context(now: 1), engine: plain)
        #expect(message.rcode == .noError && message.edns?.options.isEmpty == true)
    }

    /// RRL's slip for a client that sent a cookie: BADCOOKIE with a fresh cookie (the
    /// retry with it is then exempt); a valid cookie is never limited.
    @Test func rateLimitedClientWithACookieGetsBADCOOKIEAndAVerifiedOneIsExempt() throws {
        var rrlConfiguration = ResponseRateLimiter.Configuration(responsesPerSecond: 1)
        rrlConfiguration.slip = 1
        var limiter: ResponseRateLimiter? = ResponseRateLimiter(configuration: rrlConfiguration)
        func ask(_ request: [UInt8]) throws -> Message {
            let disposition = Self.engine.respond(
                to: ByteBuffer(bytes: request), transport: .udp, allocator: ByteBufferAllocator(),
                context: Self.context(now: 5), resolved: nil, limiter: &limiter, nanoseconds: 1)
            guard case .response(let response) = disposition else { throw DNSCookiesTestError.noResponse }
            return try Message(decoding: Array(response.bytes.readableBytesView))
        }
        let first = try ask(Self.request(cookie: Self.client))
        #expect(first.rcode == .noError && first.answers.count == 1)
        let bad = try ask(Self.request(cookie: Self.client))
        #expect(bad.rcode == .badCookie && bad.answers.isEmpty && bad.questions.count == 1 && bad.header.id == 77)
        #expect(!bad.header.truncated)
        let server = try #require(Self.serverCookie(bad))
        #expect(Self.cookies.isValid(server: server, client: Self.client, clientIP: Self.ip, now: 5))
        // Without a cookie the slip is TC=1 with no records.
        let slipped = try ask(Self.request(cookie: nil))
        #expect(slipped.header.truncated && slipped.answers.isEmpty && slipped.edns == nil)
        // With the cookie it was given, the client is exempt.
        let verified = try ask(Self.request(cookie: Self.client + server))
        #expect(verified.rcode == .noError && verified.answers.count == 1)
    }

    enum DNSCookiesTestError: Error { case noResponse }
}
