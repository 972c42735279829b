import DNSWire
import Foundation
import Testing
import TestSupport

/// Zone transfers against the real onebzd on loopback: dig and kdig with TSIG (AXFR of
/// a zone of thousands of names, several messages, SOA first and last), refusals
/// without or with a wrong key, IXFR at the current serial; a real NSD and a real Knot
/// secondary pulling the zone with TSIG and answering what onebzd answers; NOTIFY to
/// Knot on a new serial.
@Suite(.serialized, .timeLimit(.minutes(5))) struct TransferIntegrationTests {
    static let keyName = "transfer.1bz"
    static let secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="
    static let names = 3000

    /// A scratch directory with the zone (serial `serial`, `names` hosts), the key file
    /// and a config allowing transfers from loopback with the key.
    struct Setup {
        let directory: URL
        var zone: String { directory.appendingPathComponent("1bz.zone").path }
        var keyFile: String { directory.appendingPathComponent("tsig.key").path }
        var config: String { directory.appendingPathComponent("onebzd.toml").path }

        init(serial: UInt32, label: String = "xfr", notify: [Int] = []) throws {
            directory = try Repo.scratchDirectory(label)
            try Self.writeZone(serial: serial, to: zone)
            try TSIGKeyFileWriter.write([(keyName, secret)], to: keyFile)
            var toml = """
                [transfer]
                tsig_key_files = ["\(keyFile)"]
                notify_retry = "200ms"
                notify_max_retry = "2s"

                [[transfer.allow]]
                address = "127.0.0.0/8"
                key = "\(keyName)"

                """
            for port in notify {
                toml += """

                    [[transfer.notify]]
                    address = "127.0.0.1:\(port)"
                    key = "\(keyName)"

                    """
            }
            try toml.write(toFile: config, atomically: true, encoding: .utf8)
        }

        static func writeZone(serial: UInt32, to path: String) throws {
            var text = """
                $ORIGIN 1bz.
                $TTL 3600
                @ IN SOA ns1.1bz. hostmaster.1bz. \(serial) 3600 600 86400 60
                @ IN NS ns1.1bz.
                ns1 IN A 127.0.0.1
                @ IN TXT "serial \(serial)"
                www IN CNAME @
                mail IN MX 10 ns1.1bz.

                """
            for index in 0..<names {
                text += "host\(index) IN A 10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)\n"
            }
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }

        func start() async throws -> OnebzdServer {
            try await OnebzdServer(zone: zone, label: "onebzd-xfr", extraArguments: ["--config", config])
        }
    }

    /// A record line of dig/kdig output (not a comment, not the TSIG pseudo-records).
    static func isRecord(_ line: Substring) -> Bool {
        !line.hasPrefix(";") && !line.isEmpty && !line.contains("TSIG")
    }

    /// Records in the zone file: SOA, NS, A, TXT, CNAME, MX and the hosts.
    static let zoneRecords = names + 6

    @Test func axfrWithTheKeyStreamsTheWholeZone() async throws {
        let setup = try Setup(serial: 2026_1203)
        let server = try await setup.start()
        let dig = try Command.run(
            "dig", ["@127.0.0.1", "-p", "\(server.port)", "-k", setup.keyFile, "+time=5", "+tries=1", "1bz", "AXFR"])
        let records = dig.stdout.split(separator: "\n").filter(Self.isRecord)
        #expect(records.count == Self.zoneRecords + 1, "\(dig.stdout.suffix(600))")
        #expect(records.first?.contains("SOA") == true && records.last?.contains("SOA") == true)
        // dig checks every message's TSIG; a bad one ends the transfer with an error.
        #expect(!dig.stdout.contains("failed") && !dig.stdout.contains("tsig verify failure"))
        let size = try #require(dig.stdout.firstMatch(of: /XFR size: (\d+) records \(messages (\d+)/))
        #expect(Int(size.1) == Self.zoneRecords + 1)
        #expect(Int(size.2)! > 1, "a zone of \(Self.names) names fits one message?")

        let kdig = try Command.run(
            "kdig", [
                "@127.0.0.1", "-p", "\(server.port)", "-y", "hmac-sha256:\(Self.keyName):\(Self.secret)", "+time=5",
                "+retry=0", "1bz", "AXFR",
            ])
        let kdigRecords = kdig.stdout.split(separator: "\n").filter(Self.isRecord)
        #expect(kdigRecords.count == Self.zoneRecords + 1, "\(kdig.stdout.suffix(600)) \(kdig.stderr)")
        #expect(!kdig.stdout.contains("WARNING") && !kdig.stderr.contains("WARNING"), "\(kdig.stderr)")
        #expect(server.process.stderr().contains("transfer finished"))
    }

    /// Issue 21, finding 0: a response (QR=1) is never answered, whatever its opcode or
    /// question, on UDP or TCP, even with transfers configured. Before the fix the
    /// transfer check ran before the QR check: 8 of these (QR=1 AXFR/IXFR with opcode
    /// QUERY, NOTIFY or UPDATE) got REFUSED or FORMERR, enough for one spoofed packet to
    /// bounce between two servers for ever.
    @Test func responsesAreNeverAnsweredOnAnyTransport() async throws {
        let setup = try Setup(serial: 9, label: "xfr-qr")
        let server = try await setup.start()
        let client = RawDNSClient(port: server.port)
        var responses: [[UInt8]] = []
        for opcode in 0..<16 {
            for type in [RRType.axfr, .ixfr, .soa, .a] {
                var packet = RawDNSClient.query("1bz", type, id: UInt16(opcode << 4 | responses.count % 4))
                packet[2] |= 0x80 | UInt8(opcode << 3)
                responses.append(packet)
            }
        }
        let probe = RawDNSClient.query("1bz", .soa, id: 0xFFFF)
        let udp = try client.udpBurst(responses + [probe], timeout: .seconds(3))
        #expect(udp.map { UInt16($0[0]) << 8 | UInt16($0[1]) } == [0xFFFF], "answered: \(udp.count - 1) of \(responses.count)")

        let tcp = try client.tcp(timeout: 2)
        tcp.send((responses + [probe]).flatMap(RawDNSClient.framed))
        var ids: [UInt16] = []
        while let message = tcp.readMessage() { ids.append(UInt16(message[0]) << 8 | UInt16(message[1])) }
        #expect(ids == [0xFFFF], "TCP answered \(ids.count - 1) responses")
    }

    @Test func withoutTheKeyOrWithAWrongOneItIsRefused() async throws {
        let setup = try Setup(serial: 7)
        let server = try await setup.start()
        let unsigned = try Command.run("dig", ["@127.0.0.1", "-p", "\(server.port)", "+time=3", "+tries=1", "1bz", "AXFR"])
        #expect(!unsigned.stdout.contains("IN\tA\t10."), "\(unsigned.stdout)")
        #expect(unsigned.stdout.contains("Transfer failed"), "\(unsigned.stdout)")
        let wrong = try Command.run(
            "kdig", [
                "@127.0.0.1", "-p", "\(server.port)", "-y", "hmac-sha256:\(Self.keyName):d3JvbmctZG9lcy1ub3QtbWF0Y2g=",
                "+time=3", "+retry=0", "1bz", "AXFR",
            ])
        #expect(!wrong.stdout.contains("IN\tA\t10."), "\(wrong.stdout)")
        #expect((wrong.stdout + wrong.stderr).contains("NOTAUTH") || (wrong.stdout + wrong.stderr).contains("BADSIG"),
            "\(wrong.stdout) \(wrong.stderr)")
        let unknown = try Command.run(
            "kdig", [
                "@127.0.0.1", "-p", "\(server.port)", "-y", "hmac-sha256:other.key:\(Self.secret)", "+time=3", "+retry=0",
                "1bz", "AXFR",
            ])
        #expect(!unknown.stdout.contains("IN\tA\t10."), "\(unknown.stdout)")
        let log = server.process.stderr()
        #expect(log.contains("transfer refused") && log.contains("TSIG BADSIG") && log.contains("TSIG BADKEY"), "\(log.suffix(2000))")
        #expect(log.contains("a TSIG key is required"))
    }

    @Test func ixfrAtTheCurrentSerialIsOneSOA() async throws {
        let setup = try Setup(serial: 42)
        let server = try await setup.start()
        for transport in ["+tcp", "+notcp"] {
            let dig = try Command.run(
                "dig", ["@127.0.0.1", "-p", "\(server.port)", "-k", setup.keyFile, transport, "+time=3", "+tries=1", "1bz", "IXFR=42"])
            let records = dig.stdout.split(separator: "\n").filter(Self.isRecord)
            #expect(records.count == 1 && records[0].contains("SOA") && records[0].contains(" 42 "), "\(dig.stdout)")
        }
        // A signed query of another kind (a secondary's SOA check) gets a signed answer,
        // which dig verifies; over UDP it leaves the fast path and comes back signed.
        for transport in ["+tcp", "+notcp"] {
            let dig = try Command.run(
                "dig", ["@127.0.0.1", "-p", "\(server.port)", "-k", setup.keyFile, transport, "+time=3", "+tries=1", "1bz", "SOA"])
            #expect(dig.stdout.contains("status: NOERROR") && dig.stdout.contains("TSIG"), "\(dig.stdout)")
            #expect(!dig.stdout.contains("Couldn't verify") && !dig.stderr.contains("verify"), "\(dig.stdout) \(dig.stderr)")
        }
        // An older serial with no journal: the whole zone, AXFR-style.
        let older = try Command.run(
            "dig", ["@127.0.0.1", "-p", "\(server.port)", "-k", setup.keyFile, "+time=5", "+tries=1", "1bz", "IXFR=41"])
        let records = older.stdout.split(separator: "\n").filter(Self.isRecord)
        #expect(records.count == Self.zoneRecords + 1, "\(older.stdout.suffix(500))")
    }

    // MARK: Real secondaries

    static let probes: [(String, String)] = [
        ("1bz", "SOA"), ("1bz", "NS"), ("1bz", "TXT"), ("ns1.1bz", "A"), ("www.1bz", "CNAME"), ("mail.1bz", "MX"),
        ("host0.1bz", "A"), ("host1234.1bz", "A"), ("host2999.1bz", "A"), ("nope.1bz", "A"),
    ]

    static func answers(port: Int, _ name: String, _ type: String) throws -> String {
        let result = try Command.run(
            "dig", ["@127.0.0.1", "-p", "\(port)", "+norec", "+time=2", "+tries=1", "+noall", "+answer", name, type])
        return result.stdout.split(separator: "\n").map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
            .sorted().joined(separator: "\n")
    }

    static func serial(port: Int) -> String? {
        (try? Command.run("dig", ["@127.0.0.1", "-p", "\(port)", "+short", "+time=1", "+tries=1", "1bz", "SOA"]))?
            .stdout.split(separator: " ").dropFirst(2).first.map(String.init)
    }

    @Test func nsdAndKnotSecondariesTransferAndAnswerTheSame() async throws {
        let setup = try Setup(serial: 2026_1204)
        let server = try await setup.start()
        let nsd = try await Secondary.nsd(primaryPort: server.port, directory: setup.directory)
        let knot = try await Secondary.knot(primaryPort: server.port, directory: setup.directory)
        for secondary in [nsd, knot] {
            try await secondary.process.waitUntil(timeout: .seconds(30)) {
                Self.serial(port: secondary.port) == "20261204"
            }
            for (name, type) in Self.probes {
                let ours = try Self.answers(port: server.port, name, type)
                let theirs = try Self.answers(port: secondary.port, name, type)
                #expect(ours == theirs, "\(secondary.process.name) \(name) \(type)")
            }
        }
        // NSD says it checked the signature of the transfer.
        #expect(nsd.log.contains("TSIG verified with key transfer.1bz"), "\(nsd.log)")
        let log = server.process.stderr()
        #expect(log.contains("transfer finished"))
    }

    @Test func notifyMakesKnotTransferTheNewSerial() async throws {
        // Knot first, on a port onebzd will notify.
        let knotPort = FreePort.next()
        let onebzdPort = FreePort.next()
        let setup = try Setup(serial: 100, label: "xfr-notify", notify: [knotPort])
        let knot = try await Secondary.knot(primaryPort: onebzdPort, directory: setup.directory, port: knotPort)
        var server = try await OnebzdServer(
            zone: setup.zone, label: "onebzd-notify", extraArguments: ["--config", setup.config], port: onebzdPort)
        try await knot.process.waitUntil(timeout: .seconds(30)) { Self.serial(port: knotPort) == "100" }
        // A new serial: onebzd restarts with it and announces it; Knot's refresh is an
        // hour away, so only the NOTIFY can make it transfer now.
        server.process.stop()
        try Setup.writeZone(serial: 101, to: setup.zone)
        server = try await OnebzdServer(
            zone: setup.zone, label: "onebzd-notify", extraArguments: ["--config", setup.config], port: onebzdPort)
        try await knot.process.waitUntil(timeout: .seconds(20)) { Self.serial(port: knotPort) == "101" }
        try await server.process.waitUntil(timeout: .seconds(10)) {
            server.process.stderr().contains("notify acknowledged")
        }
        #expect(try Self.answers(port: knotPort, "1bz", "TXT").contains("serial 101"))
        #expect(knot.log.contains("notify, incoming"), "\(knot.log)")
    }
}

/// A secondary server process (NSD or Knot) on a free loopback port, fed by onebzd,
/// configured by the scripts' one writer of each (`scripts/lib/secondaries.sh`: the same
/// NSD and Knot configuration scripts/fleet, the demo and FleetTests use), with the TSIG
/// key in `directory/tsig.key`.
final class Secondary: Sendable {
    let port: Int
    let process: ManagedProcess
    /// Where the server logs (secondaries.sh sends NSD's and Knot's logs to a file).
    let logFile: URL

    private init(port: Int, process: ManagedProcess, logFile: URL) {
        self.port = port
        self.process = process
        self.logFile = logFile
    }

    deinit { process.stop() }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    static func nsd(primaryPort: Int, directory: URL, port: Int = FreePort.next()) async throws -> Secondary {
        try await start("nsd", primaryPort: primaryPort, directory: directory, port: port)
    }

    static func knot(primaryPort: Int, directory: URL, port: Int = FreePort.next()) async throws -> Secondary {
        try await start("knot", primaryPort: primaryPort, directory: directory, port: port)
    }

    private static func start(_ kind: String, primaryPort: Int, directory: URL, port: Int) async throws -> Secondary {
        let dir = directory.appendingPathComponent("\(kind)-\(port)")
        let key = directory.appendingPathComponent("tsig.key").path
        try shell("tsig_read \(key) && write_\(kind)_secondary \(dir.path) 127.0.0.1 \(port) 127.0.0.1 \(primaryPort)")
        let command = try shell("\(kind)_command \(dir.path)").split(separator: " ").map(String.init)
        let process = try ManagedProcess(
            name: command[0], executable: URL(fileURLWithPath: "/usr/sbin/\(command[0])"),
            arguments: Array(command.dropFirst()), logDirectory: dir)
        try await process.waitUntil { FreePort.isAcceptingTCP(port: port) }
        return Secondary(port: port, process: process, logFile: dir.appendingPathComponent("\(kind).log"))
    }

    /// Runs bash with `libraries` (in scripts/lib) sourced; fails on a non-zero exit.
    @discardableResult
    static func shell(_ command: String, libraries: [String] = ["secondaries.sh"]) throws -> String {
        let lib = Repo.root.appendingPathComponent("scripts/lib").path
        let sources = libraries.map { "source \(lib)/\($0); " }.joined()
        let result = try Command.run("bash", ["-c", "set -euo pipefail; \(sources)\(command)"])
        guard result.status == 0 else { throw TestProcessError("\(command): \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
