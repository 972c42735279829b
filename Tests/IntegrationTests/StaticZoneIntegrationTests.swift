import DNSWire
import Foundation
import TestSupport
import Testing

/// The real onebzd binary, queried with dig and kdig over UDP and TCP.
@Suite(.serialized) struct StaticZoneIntegrationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let query: [String]
        let status: String
        let authoritative: Bool
        let answerContains: [String]
        let authorityContains: [String]
        let additionalContains: [String]
        var testDescription: String { query.joined(separator: " ") }
    }

    static let cases: [Case] = [
        .init(
            query: ["ns1.1bz", "A"], status: "NOERROR", authoritative: true,
            answerContains: ["ns1.1bz. 3600 IN A 192.0.2.53"], authorityContains: [], additionalContains: []),
        .init(
            query: ["1bz", "NS"], status: "NOERROR", authoritative: true,
            answerContains: ["1bz. 3600 IN NS ns1.1bz.", "1bz. 3600 IN NS ns2.1bz."], authorityContains: [],
            additionalContains: ["ns1.1bz. 3600 IN A 192.0.2.53", "ns2.1bz. 3600 IN AAAA 2001:db8:1::53"]),
        .init(
            query: ["nope.1bz", "A"], status: "NXDOMAIN", authoritative: true,
            answerContains: [], authorityContains: ["1bz. 300 IN SOA ns1.1bz. hostmaster.1bz."], additionalContains: []),
        .init(
            query: ["www.1bz", "MX"], status: "NOERROR", authoritative: true,
            answerContains: [], authorityContains: ["1bz. 300 IN SOA"], additionalContains: []),
        .init(
            query: ["host.example.1bz", "A"], status: "NOERROR", authoritative: false,
            answerContains: [], authorityContains: ["example.1bz. 3600 IN NS ns1.example.1bz."],
            additionalContains: ["ns1.example.1bz. 3600 IN A 192.0.2.100"]),
        .init(
            query: ["example.1bz", "DS"], status: "NOERROR", authoritative: true,
            answerContains: ["example.1bz. 3600 IN DS 12345 15 2"], authorityContains: [], additionalContains: []),
        .init(
            query: ["example.com", "A"], status: "REFUSED", authoritative: false,
            answerContains: [], authorityContains: [], additionalContains: []),
        .init(
            query: ["docs.1bz", "A"], status: "NOERROR", authoritative: true,
            answerContains: ["docs.1bz. 3600 IN CNAME www.1bz.", "www.1bz. 3600 IN A 192.0.2.80"],
            authorityContains: [], additionalContains: []),
    ]

    static func check(_ result: DigResult, _ expected: Case) {
        #expect(result.status == expected.status, "\(result)")
        #expect(result.flags.contains("qr"))
        #expect(result.flags.contains("aa") == expected.authoritative, "\(result)")
        #expect(!result.flags.contains("tc"))
        for line in expected.answerContains {
            #expect(result.answer.contains { $0.hasPrefix(line) }, "\(line) in \(result)")
        }
        for line in expected.authorityContains {
            #expect(result.authority.contains { $0.hasPrefix(line) }, "\(line) in \(result)")
        }
        for line in expected.additionalContains {
            #expect(result.additional.contains { $0.hasPrefix(line) }, "\(line) in \(result)")
        }
        if expected.answerContains.isEmpty { #expect(result.answer.isEmpty, "\(result)") }
    }

    @Test(arguments: ["+notcp", "+tcp"])
    func digOverUDPAndTCP(transport: String) async throws {
        let server = try await OnebzdServer(label: "dig\(transport)")
        for expected in Self.cases {
            Self.check(try server.dig([transport] + expected.query), expected)
        }
    }

    @Test(arguments: ["+notcp", "+tcp"])
    func kdigOverUDPAndTCP(transport: String) async throws {
        let server = try await OnebzdServer(label: "kdig\(transport)")
        for expected in Self.cases {
            Self.check(try server.kdig([transport] + expected.query), expected)
        }
    }

    @Test func echoesQuestionCaseAndID() async throws {
        let server = try await OnebzdServer(label: "case")
        let result = try server.dig(["nS1.1Bz", "A"])
        #expect(result.answer.first?.hasPrefix("nS1.1Bz. 3600 IN A 192.0.2.53") == true, "\(result)")
        // dig itself checks that the ID matches; a raw query checks it too.
        let response = try RawDNSClient(port: server.port).udp(RawDNSClient.query("WWW.1bz", .a, id: 0xCAFE))
        let message = try Message(decoding: try #require(response))
        #expect(message.header.id == 0xCAFE)
        #expect(message.questions.first?.name.description == "WWW.1bz.")
    }

    @Test func badVersAndChaos() async throws {
        let server = try await OnebzdServer(label: "badvers", extraArguments: ["--version-string", "it-works"])
        let badVers = try server.dig(["+edns=1", "+noednsneg", "www.1bz", "A"])
        #expect(badVers.status == "BADVERS", "\(badVers)")
        let version = try server.dig(["-c", "CH", "-t", "TXT", "version.bind"])
        #expect(version.answer.first?.contains("\"it-works\"") == true, "\(version)")
    }

    @Test func chaosCanBeRefused() async throws {
        let server = try await OnebzdServer(label: "nochaos", extraArguments: ["--no-chaos"])
        #expect(try server.dig(["-c", "CH", "-t", "TXT", "version.bind"]).status == "REFUSED")
        #expect(try server.dig(["-c", "CH", "-t", "TXT", "id.server"]).status == "REFUSED")
    }

    @Test func truncatesOverUDPAndAnswersInFullOverTCP() async throws {
        let dir = try Repo.scratchDirectory("bigzone")
        let zonePath = dir.appendingPathComponent("1bz.zone").path
        var text = try String(contentsOf: Repo.root.appendingPathComponent("zones/1bz.zone"), encoding: .utf8)
        for index in 0..<40 { text += "big IN TXT \"\(String(repeating: "x", count: 60))-\(index)\"\n" }
        try text.write(toFile: zonePath, atomically: true, encoding: .utf8)
        let server = try await OnebzdServer(zone: zonePath, label: "trunc")
        let udp = try server.dig(["+ignore", "+notcp", "big.1bz", "TXT"])
        #expect(udp.flags.contains("tc"), "\(udp)")
        #expect(udp.answer.isEmpty)
        let noEDNS = try server.dig(["+ignore", "+noedns", "big.1bz", "TXT"])
        #expect(noEDNS.flags.contains("tc"), "\(noEDNS)")
        let tcp = try server.dig(["+tcp", "big.1bz", "TXT"])
        #expect(!tcp.flags.contains("tc"))
        #expect(tcp.answer.count == 40, "\(tcp)")
    }

    @Test func servesIPv6() async throws {
        let port = FreePort.next()
        let dir = try Repo.scratchDirectory("ipv6")
        let process = try ManagedProcess(
            name: "onebzd", executable: Repo.product("onebzd"),
            arguments: [
                "--zone", Repo.root.appendingPathComponent("zones/1bz.zone").path,
                "--listen", "127.0.0.1:\(port)", "--listen", "[::1]:\(port)",
            ],
            logDirectory: dir)
        defer { process.stop() }
        try await process.waitForTCP(port: port)
        for transport in ["+notcp", "+tcp"] {
            let result = try Command.run(
                "dig", ["@::1", "-p", "\(port)", transport, "+norec", "+time=2", "+tries=1", "ns1.1bz", "AAAA"])
            #expect(result.stdout.contains("status: NOERROR"), "\(result.stdout)")
            #expect(result.stdout.contains("2001:db8::53"))
        }
    }
}
