import Foundation
import NodeRegistry
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// onebzd as hidden primary of a real NSD and a real Knot secondary, each in its own
/// network namespace (scripts/lib/netns.sh: onebzd on 10.53.0.1 on a bridge, NSD in
/// onebz-s1 on 10.53.0.2, Knot in onebz-s2 on 10.53.0.3), fed by AXFR/IXFR with TSIG
/// and NOTIFY; the same checks as `scripts/fleet`. Without the privileges for network
/// namespaces the secondaries run on 127.0.0.2 and 127.0.0.3 and a cut link is a stopped
/// process (the test says so in its output). Namespaces have fixed names: do not run this
/// suite and `scripts/fleet` at the same time.
@Suite(.serialized, .timeLimit(.minutes(4))) struct FleetTests {
    @Test func secondariesFollowTheChainThroughOnebzd() async throws {
        let fleet = try await Fleet.start()
        defer { fleet.tearDown() }
        if fleet.mode != "netns" {
            print("FleetTests: network namespaces unavailable; secondaries on 127.0.0.2/127.0.0.3 (cut link = SIGSTOP)")
        }

        // Names beyond the samples (TXT only: registered, no metadata).
        var names = ["shashi.1bz", "acme.1bz", "bob.1bz", "1bz", "www.1bz", "ns1.1bz"]
        for index in 1...4 {
            try await fleet.stack.registerNewNode("fleet\(index).1bz", account: index)
            names.append("fleet\(index).1bz")
        }

        // Both secondaries take the zone and answer every name and type as onebzd does.
        try await fleet.untilSameSerial(timeout: .seconds(60))
        try fleet.expectSameAnswers(names: names)

        // shashi declares HTTPS on 443 and 8443 (docs/dns.md#web-service-records): the
        // TLSA and HTTPS records reach both secondaries by transfer, and they answer
        // them, the empty non-terminal `_tcp` and an undeclared port as onebzd does.
        let (v4, v6) = DynamicStack.addresses(of: "shashi.1bz")
        try await fleet.stack.publishRecord(
            for: try #require(fleet.stack.devnet.sample("shashi.1bz")), ipv4: v4, ipv6: v6, seq: 2,
            services: [.https(port: 443), .https(port: 8443)])
        try await fleet.until(timeout: .seconds(20)) { fleet.answersEverywhere("_8443._tcp.shashi.1bz", "TLSA") }
        try await fleet.untilSameSerial(timeout: .seconds(20))
        let serviceNames = ["shashi.1bz", "_443._tcp.shashi.1bz", "_8443._tcp.shashi.1bz", "_tcp.shashi.1bz", "_80._tcp.shashi.1bz"]
        try fleet.expectSameAnswers(names: serviceNames, types: ["HTTPS", "TLSA", "A"])
        #expect(fleet.dig(.nsd, "_443._tcp.shashi.1bz", "TLSA").answer.first?.contains("TLSA 3 1 1 ") == true)
        #expect(fleet.dig(.knot, "shashi.1bz", "HTTPS").answer.count == 2)
        #expect(fleet.dig(.knot, "_tcp.shashi.1bz", "A").status == "NOERROR")

        // A registration reaches both within one poll + NOTIFY.
        let timings = try await fleet.registerAndTime("fleetnew.1bz", account: 6)
        print("FleetTests: fleetnew.1bz from its block to the answer: \(timings)")
        names.append("fleetnew.1bz")

        // Both links cut, a registration, links restored: both catch up, Knot by IXFR.
        let ixfrBefore = fleet.knotLog().components(separatedBy: "IXFR, incoming").count
        try fleet.cut()
        try await fleet.stack.registerNewNode("fleetcut.1bz", account: 7)
        try await Task.sleep(for: .seconds(2))
        if fleet.mode == "netns" {
            #expect(fleet.serial(of: .knot) != fleet.serial(of: .primary), "Knot followed with its link down")
        }
        try fleet.restore()
        try await fleet.untilSameSerial(timeout: .seconds(30))
        #expect(fleet.knotLog().components(separatedBy: "IXFR, incoming").count > ixfrBefore, "\(fleet.knotLog())")
        names.append("fleetcut.1bz")

        // A reorg: a name on the abandoned branch is gone everywhere, the new branch's name is there.
        let snapshot = try await fleet.stack.devnet.snapshot()
        try await fleet.stack.registerNewNode("fleetgone.1bz", account: 8)
        try await fleet.until(timeout: .seconds(15)) { fleet.answersEverywhere("fleetgone.1bz", "TXT") }
        try await fleet.stack.devnet.revert(to: snapshot)
        try await fleet.stack.registerNewNode("fleetkept.1bz", account: 9)
        try await fleet.stack.devnet.mine(2)
        try await fleet.until(timeout: .seconds(20)) {
            fleet.answersEverywhere("fleetkept.1bz", "TXT")
                && Fleet.Server.allCases.allSatisfy { fleet.dig($0, "fleetgone.1bz", "TXT").status == "NXDOMAIN" }
        }
        names.append("fleetkept.1bz")
        try await fleet.untilSameSerial(timeout: .seconds(20))
        try fleet.expectSameAnswers(names: names)

        // TSIG: with the key the whole zone; with a wrong key or none refused, and logged.
        #expect(fleet.axfrSOACount(key: fleet.keyArgument) == 2)
        let wrong = "hmac-sha256:\(fleet.keyName):" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        #expect(fleet.axfrSOACount(key: wrong) == 0)
        #expect(fleet.axfrSOACount(key: nil) == 0)
        try await fleet.until(timeout: .seconds(5)) {
            let log = fleet.stack.onebzd.process.stderr()
            return log.contains("transfer refused") && log.contains("BADSIG")
        }
    }
}

/// The fleet: the dynamic stack (devnet, proxy, registry, onebzd) with transfers allowed
/// to the secondaries with a fresh key, and NSD and Knot as secondaries.
final class Fleet: @unchecked Sendable {
    // @unchecked: set up once in start() and read by the one test task afterwards.
    enum Server: CaseIterable { case primary, nsd, knot }

    let mode: String
    let stack: DynamicStack
    let directory: URL
    let addresses: [Server: String]
    let ports: [Server: Int]
    let keyName = "fleet-xfr"
    let keyArgument: String
    private var secondaries: [ManagedProcess] = []

    static let script = Repo.root.appendingPathComponent("scripts/lib").path

    private init(mode: String, stack: DynamicStack, directory: URL, addresses: [Server: String], ports: [Server: Int], key: String) {
        self.mode = mode
        self.stack = stack
        self.directory = directory
        self.addresses = addresses
        self.ports = ports
        self.keyArgument = key
    }

    static func start() async throws -> Fleet {
        let up = try Command.run("bash", ["\(script)/netns.sh", "up"])
        let mode = up.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard mode == "netns" || mode == "loopback" else { throw TestProcessError("netns.sh up: \(up.stderr)") }
        let netns = mode == "netns"
        let addresses: [Server: String] =
            netns
            ? [.primary: "10.53.0.1", .nsd: "10.53.0.2", .knot: "10.53.0.3"]
            : [.primary: "127.0.0.1", .nsd: "127.0.0.2", .knot: "127.0.0.3"]
        let secondaryPort = netns ? 53 : FreePort.next()
        let ports: [Server: Int] = [.primary: FreePort.next(), .nsd: secondaryPort, .knot: secondaryPort]
        let directory = try Repo.scratchDirectory("fleet")
        let keyFile = directory.appendingPathComponent("tsig.key").path

        // The key and the secondaries' configurations by the script's own functions.
        let keyName = "fleet-xfr"
        try shell("tsig_keygen \(keyName) \(keyFile)")
        let key = try shell("tsig_read \(keyFile) && tsig_dig_arg").trimmingCharacters(in: .whitespacesAndNewlines)
        var toml = """
            [transfer]
            tsig_key_files = ["\(keyFile)"]
            notify_retry = "500ms"
            notify_max_retry = "2s"

            """
        for server in [Server.nsd, .knot] {
            toml += """

                [[transfer.allow]]
                address = "\(addresses[server]!)/32"
                key = "\(keyName)"

                [[transfer.notify]]
                address = "\(addresses[server]!):\(ports[server]!)"
                key = "\(keyName)"

                """
        }
        toml += """

            [[transfer.allow]]
            address = "127.0.0.1/32"
            key = "\(keyName)"

            """
        let stack = try await DynamicStack(
            label: "fleet", pollMilliseconds: 500, extraConfig: toml,
            onebzdArguments: netns ? ["--listen", "10.53.0.1:\(ports[.primary]!)"] : [])
        // On loopback onebzd listens on 127.0.0.1 only: that is its stack port.
        var resolvedPorts = ports
        if !netns { resolvedPorts[.primary] = stack.onebzd.port }
        let fleet = Fleet(
            mode: mode, stack: stack, directory: directory, addresses: addresses, ports: resolvedPorts, key: key)
        try fleet.startSecondaries(keyFile: keyFile)
        return fleet
    }

    private func startSecondaries(keyFile: String) throws {
        let primary = "\(addresses[.primary]!) \(ports[.primary]!)"
        let nsdDir = directory.appendingPathComponent("s1").path
        let knotDir = directory.appendingPathComponent("s2").path
        try Self.shell(
            "tsig_read \(keyFile) && write_nsd_secondary \(nsdDir) \(addresses[.nsd]!) \(ports[.nsd]!) \(primary)"
                + " && write_knot_secondary \(knotDir) \(addresses[.knot]!) \(ports[.knot]!) \(primary)")
        let netns = mode == "netns"
        let ip = URL(fileURLWithPath: "/usr/sbin/ip")
        secondaries.append(
            try ManagedProcess(
                name: "nsd", executable: netns ? ip : URL(fileURLWithPath: "/usr/sbin/nsd"),
                arguments: (netns ? ["netns", "exec", "onebz-s1", "nsd"] : []) + ["-d", "-c", "\(nsdDir)/nsd.conf"],
                logDirectory: directory))
        secondaries.append(
            try ManagedProcess(
                name: "knotd", executable: netns ? ip : URL(fileURLWithPath: "/usr/sbin/knotd"),
                arguments: (netns ? ["netns", "exec", "onebz-s2", "knotd"] : []) + ["-c", "\(knotDir)/knot.conf"],
                logDirectory: directory))
    }

    /// Runs bash with scripts/lib/netns.sh and secondaries.sh sourced; fails on a non-zero exit.
    @discardableResult
    static func shell(_ command: String) throws -> String {
        try Secondary.shell(command, libraries: ["netns.sh", "secondaries.sh"])
    }

    func tearDown() {
        for process in secondaries { process.stop() }
        _ = try? Command.run("bash", ["\(Self.script)/netns.sh", "down"])
    }

    func dig(_ server: Server, _ name: String, _ type: String, _ extra: [String] = []) -> DigResult {
        let result = try? Command.run(
            "dig",
            ["@\(addresses[server]!)", "-p", "\(ports[server]!)", "+norec", "+time=1", "+tries=1", "+nocmd", "+nostats"]
                + extra + [name, type])
        return DigResult(output: result?.stdout ?? "")
    }

    func serial(of server: Server) -> String? {
        dig(server, "1bz", "SOA").rdataFields("SOA").dropFirst(2).first
    }

    func answersEverywhere(_ name: String, _ type: String) -> Bool {
        Server.allCases.allSatisfy { !dig($0, name, type).answer.isEmpty }
    }

    func untilSameSerial(timeout: Duration) async throws {
        try await until(timeout: timeout) {
            let primary = serial(of: .primary)
            return primary != nil && serial(of: .nsd) == primary && serial(of: .knot) == primary
        }
    }

    /// Polls `check` (three digs, one per server, for a serial) every 250 ms.
    func until(timeout: Duration, _ check: () -> Bool) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < timeout {
            if check() { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw TestProcessError(
            "not within \(timeout): serials onebzd \(serial(of: .primary) ?? "-"), NSD \(serial(of: .nsd) ?? "-"), Knot \(serial(of: .knot) ?? "-")"
        )
    }

    /// rcode, AA and the answer section of every name × type, and random names
    /// NXDOMAIN, the same on the three servers.
    func expectSameAnswers(names: [String], types: [String] = ["A", "AAAA", "TXT", "SOA", "NS"]) throws {
        for name in names {
            for type in types {
                let answers = Server.allCases.map { server in
                    // Three tries, as a resolver makes: one lost datagram on a loaded
                    // machine is not a difference between the servers.
                    let result = dig(server, name, type, ["+tries=3"])
                    return "\(result.status ?? "-") aa=\(result.flags.contains("aa")) \(result.answer.sorted())"
                }
                #expect(answers[0] == answers[1] && answers[0] == answers[2], "\(name) \(type): \(answers)")
            }
        }
        for _ in 0..<10 {
            let name = "nx\(UInt32.random(in: 0...UInt32.max)).1bz"
            for server in Server.allCases {
                #expect(dig(server, name, "A", ["+tries=3"]).status == "NXDOMAIN", "\(name) on \(server)")
            }
        }
    }

    /// Registers `name` and measures from its block to the answer on each server.
    func registerAndTime(_ name: String, account: Int) async throws -> String {
        try await stack.registerNewNode(name, account: account)
        let clock = ContinuousClock()
        let start = clock.now
        var took: [Server: Duration] = [:]
        while took.count < 3 && clock.now - start < .seconds(10) {
            for server in Server.allCases where took[server] == nil && !dig(server, name, "TXT").answer.isEmpty {
                took[server] = clock.now - start
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(took.count == 3, "\(name) answered by \(took.keys) only within 10 s")
        return Server.allCases.map { "\($0) \(took[$0].map { "\($0)" } ?? "never")" }.joined(separator: ", ")
    }

    func cut() throws {
        if mode == "netns" {
            try Self.shell("fleet_mode=netns; link_cut s1; link_cut s2")
        } else {
            for process in secondaries { kill(process.pid, SIGSTOP) }
        }
    }

    func restore() throws {
        if mode == "netns" {
            try Self.shell("fleet_mode=netns; link_restore s1; link_restore s2")
        } else {
            for process in secondaries { kill(process.pid, SIGCONT) }
        }
    }

    func knotLog() -> String {
        (try? String(contentsOfFile: directory.appendingPathComponent("s2/knot.log").path, encoding: .utf8)) ?? ""
    }

    /// SOA records in an AXFR from onebzd's loopback listener (127.0.0.1 is allowed with
    /// the key): 2 when the whole zone came, 0 when refused.
    func axfrSOACount(key: String?) -> Int {
        let result = (try? Command.run(
            "dig", ["@127.0.0.1", "-p", "\(stack.onebzd.port)", "+time=2", "+tries=1"] + (key.map { ["-y", $0] } ?? []) + ["1bz", "AXFR"]
        ))?.stdout ?? ""
        return result.split(separator: "\n").filter {
            $0.split(whereSeparator: \.isWhitespace).dropFirst(3).first == "SOA"
        }.count
    }
}

extension DigResult {
    /// The RDATA fields of the first answer record of `type`.
    func rdataFields(_ type: String) -> [String] {
        for line in answer {
            let fields = line.split(separator: " ").map(String.init)
            if fields.count > 4 && fields[3] == type { return Array(fields.dropFirst(4)) }
        }
        return []
    }
}
