import DNSWire
import Foundation
import TestSupport
import Testing

/// RRL and DNS cookies in a real onebzd (configured in [server]): a burst from one
/// address is cut to the rate with every second limited answer slipped (TC=1, or
/// BADCOOKIE with a cookie), a client that returns a valid server cookie is exempt,
/// and TCP is never limited.
@Suite(.serialized) struct RobustnessRateLimitTests {
    @Test func burstIsLimitedWithSlipAndCookiesExemptRealClients() async throws {
        let directory = try Repo.scratchDirectory("rrl")
        let config = directory.appendingPathComponent("onebzd.toml")
        try """
        [server]
        rrl_responses_per_second = 5
        rrl_slip = 2
        rrl_exempt = []
        cookies = true
        """.write(to: config, atomically: true, encoding: .utf8)
        let server = try await OnebzdServer(label: "rrl-onebzd", extraArguments: ["--config", config.path])

        // 60 queries without a cookie, back to back from one socket.
        let plain = try UDPSocket(port: server.port)
        for id in 0..<60 { plain.send(Self.query(id: UInt16(id), cookie: nil)) }
        let answers = plain.drain(for: .milliseconds(500)).compactMap { try? Message(decoding: $0) }
        let full = answers.filter { !$0.header.truncated && $0.answers.count == 1 }.count
        let slipped = answers.filter { $0.header.truncated && $0.answers.isEmpty }.count
        #expect(full >= 5 && full <= 20, "full answers \(full) (rate 5/s, per socket)")
        #expect(slipped >= 10, "every 2nd limited answer slips: \(slipped)")
        #expect(answers.count < 60, "the rest are dropped: \(answers.count)")

        // A client cookie: the answer carries our server cookie; with it, no limit.
        let client: [UInt8] = [8, 7, 6, 5, 4, 3, 2, 1]
        let cookieSocket = try UDPSocket(port: server.port)
        cookieSocket.send(Self.query(id: 1000, cookie: client))
        let first = try #require(cookieSocket.drain(for: .milliseconds(500)).compactMap { try? Message(decoding: $0) }.first)
        let option = try #require(first.edns?.options.first { $0.code == 10 }, "no COOKIE in \(first)")
        #expect(option.data.count == 24 && Array(option.data.prefix(8)) == client)
        for id in 0..<60 { cookieSocket.send(Self.query(id: UInt16(2000 + id), cookie: option.data)) }
        let verified = cookieSocket.drain(for: .milliseconds(500)).compactMap { try? Message(decoding: $0) }
        #expect(verified.filter { !$0.header.truncated && $0.answers.count == 1 }.count == 60, "a proven client is not limited")

        // A client cookie without a server cookie, over the limit: BADCOOKIE instead of TC.
        let fresh = try UDPSocket(port: server.port)
        for id in 0..<30 { fresh.send(Self.query(id: UInt16(3000 + id), cookie: client)) }
        let limited = fresh.drain(for: .milliseconds(500)).compactMap { try? Message(decoding: $0) }
        #expect(limited.contains { $0.rcode.rawValue == 23 }, "BADCOOKIE slips")

        // TCP is never limited.
        for _ in 0..<10 { #expect(try server.dig(["+tcp", "www.1bz", "A"]).status == "NOERROR") }
    }

    static func query(id: UInt16, cookie: [UInt8]?) -> [UInt8] {
        var message = Message()
        message.header.id = id
        message.questions = [Question(name: try! Name("www.1bz"), type: .a)]
        message.edns = EDNS(udpPayloadSize: 1232, options: cookie.map { [(code: UInt16(10), data: $0)] } ?? [])
        return try! message.encoded()
    }
}
