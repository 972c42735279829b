import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The persisted zone snapshot end to end (docs/operator.md#the-zone-snapshot): the real
/// onebzd on the devnet and registry behind fault proxies, restarted on its own snapshot;
/// damaged or foreign snapshots refused; `kill -9` at random moments during registrations.
@Suite("Zone snapshot (integration)", .serialized, .timeLimit(.minutes(5)))
struct ZoneSnapshotIntegrationTests {
    static let snapshotName = "zone.snapshot"

    /// A materialising stack that writes its snapshot every `interval`.
    /// shashi.1bz declares its web service, so the zone (and a snapshot) holds a TLSA at a
    /// service name.
    static func stack(_ label: String, interval: String = "200ms", positiveTTL: Int = 1) async throws -> FaultStack {
        let devnetChainID: UInt64 = 131_277_322_940_537  // devnet/rpc.py
        return try await FaultStack(
            label: label, chainSettings: "chain_id = \(devnetChainID)", materialize: true, positiveTTL: positiveTTL,
            shashiServices: [.https(port: 443)],
            sections: { directory in
                """
                [zone]
                snapshot_file = "\(directory.appendingPathComponent(snapshotName).path)"
                snapshot_interval = "\(interval)"
                """
            })
    }

    static func config(_ stack: FaultStack) -> String { stack.directory.appendingPathComponent("onebzd.toml").path }
    static func snapshot(_ stack: FaultStack) -> String { stack.directory.appendingPathComponent(snapshotName).path }

    /// onebzd again on the stack's configuration (and so on its snapshot).
    static func restart(_ stack: FaultStack, _ label: String) async throws -> OnebzdServer {
        try await OnebzdServer(label: label, extraArguments: ["--config", config(stack)])
    }

    /// The RDATA of each answer line (owner, TTL, class and type dropped).
    static func rdata(_ result: DigResult) -> Set<String> {
        Set(result.answer.map { $0.split(separator: " ").dropFirst(4).joined(separator: " ") })
    }

    /// One dig run asking `type` for every name: the parsed answer of each, by name.
    static func digAll(_ port: Int, _ names: [String], type: String) throws -> [String: DigResult] {
        var out: [String: DigResult] = [:]
        for batch in stride(from: 0, to: names.count, by: 50) {
            let slice = Array(names[batch..<min(batch + 50, names.count)])
            let result = try Command.run(
                "dig",
                ["@127.0.0.1", "-p", "\(port)", "+norec", "+time=3", "+tries=1", "+nocmd", "+nostats"]
                    + slice.flatMap { [$0, type] })
            let chunks = result.stdout.components(separatedBy: ";; Got answer:").dropFirst()
            for (name, chunk) in zip(slice, chunks) { out[name] = DigResult(output: chunk) }
        }
        return out
    }

    static func eventually(timeout: Duration, _ check: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if (try? check()) == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestProcessError("condition not met within \(timeout)")
    }

    static func registerNew(_ stack: FaultStack, _ name: String) async throws {
        let hash = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let receipt = try await stack.devnet.registerNode(nodeHash: "0x" + hash, name: name, from: stack.devnet.info.accounts[3])
        guard receipt.succeeded else { throw TestProcessError("registerNode(\(name)) reverted") }
    }

    @Test func restartAnswersFromTheSnapshotBeforeAnyChainReadThenFollows() async throws {
        let run = UInt32.random(in: 0...UInt32.max)
        let stack = try await Self.stack("snap-restart")
        try await Self.eventually(timeout: .seconds(30)) { stack.log().contains("zone snapshot written") }
        let tlsa = try stack.dig(["_443._tcp.shashi.1bz", "TLSA"])
        try #require(tlsa.answer.count == 1, "shashi declares https on 443: \(tlsa)")
        let txt = try stack.dig(["shashi.1bz", "TXT"])
        let a = try stack.dig(["shashi.1bz", "A"])
        try #require(txt.status == "NOERROR" && a.status == "NOERROR" && !a.answer.isEmpty)
        #expect(stack.onebzd.process.stop() == 0, "a clean stop writes the last snapshot")
        #expect(stack.onebzd.process.stderr().contains("zone snapshot written"))

        // Every chain read from now on hangs.
        try stack.rpc[0].inject(.hang, delay: 120)
        let requests = stack.rpc[0].count("http_requests")
        let hangs = stack.rpc[0].count("fault:hang")
        let started = ContinuousClock.now
        let server = try await Self.restart(stack, "snap-restart-2")
        let restartedTXT = try server.dig(["shashi.1bz", "TXT"])
        let answeredAfter = ContinuousClock.now - started
        #expect(restartedTXT.status == "NOERROR" && restartedTXT.flags.contains("aa"), "\(restartedTXT)")
        #expect(Self.rdata(restartedTXT) == Self.rdata(txt))
        #expect(Self.rdata(try server.dig(["shashi.1bz", "A"])) == Self.rdata(a))
        // Service names answer from the snapshot too, by the same rules as from the chain:
        // the TLSA at the declared port, never the node's A records at a service name,
        // no name at an undeclared port.
        let restoredTLSA = try server.dig(["_443._tcp.shashi.1bz", "TLSA"])
        #expect(restoredTLSA.flags.contains("aa") && Self.rdata(restoredTLSA) == Self.rdata(tlsa), "\(restoredTLSA)")
        let service = try server.dig(["_443._tcp.shashi.1bz", "A"])
        #expect(service.status == "NOERROR" && service.answer.isEmpty, "\(service)")
        let empty = try server.dig(["_tcp.shashi.1bz", "TXT"])
        #expect(empty.status == "NOERROR" && empty.answer.isEmpty, "an empty non-terminal: \(empty)")
        #expect(try server.dig(["_8443._tcp.shashi.1bz", "TLSA"]).status == "NXDOMAIN")
        let absent = try server.dig(["nobody-\(run).1bz", "A"])
        #expect(absent.status == "NXDOMAIN" && absent.flags.contains("aa"), "\(absent)")
        #expect(stack.rpc[0].count("http_requests") - requests == stack.rpc[0].count("fault:hang") - hangs,
            "every chain request since the restart is still hanging: the answers came from the snapshot")
        let log = server.process.stderr()
        #expect(log.contains("zone snapshot loaded") && !log.contains("cold start"))
        print("zone snapshot: restart to a registered name's answer \(answeredAfter) (chain stalled)")

        // Registered while the chain is unreachable for onebzd: answered once it is back.
        let fresh = "fresh-\(run).1bz"
        try await Self.registerNew(stack, fresh)
        #expect(try server.dig([fresh, "TXT"]).status == "NXDOMAIN", "the snapshot's block precedes it")
        try stack.rpc[0].inject(.pass)
        try await Self.eventually(timeout: .seconds(20)) { try server.dig([fresh, "TXT"]).status == "NOERROR" }
        #expect(try server.dig([fresh, "TXT"]).txt["verified"] == "no")
        #expect(Self.rdata(try server.dig(["shashi.1bz", "A"])) == Self.rdata(a))
    }

    struct Refusal: Sendable {
        let label: String
        /// What the log line's reason says.
        let reason: String
        let damage: @Sendable ([UInt8]) throws -> [UInt8]
    }

    /// Bytes `range` replaced by `value`, the checksum recomputed: a consistent file of
    /// another chain, contract or format.
    static func rewritten(_ bytes: [UInt8], at offset: Int, _ value: [UInt8]) throws -> [UInt8] {
        var body = Array(bytes.dropLast(32))
        body.replaceSubrange(offset..<offset + value.count, with: value)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("snap-body-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(body).write(to: URL(fileURLWithPath: path))
        let hex = try Command.run("sha256sum", [path]).stdout.prefix(64)
        let digest = stride(from: 0, to: 64, by: 2).map {
            UInt8(hex[hex.index(hex.startIndex, offsetBy: $0)..<hex.index(hex.startIndex, offsetBy: $0 + 2)], radix: 16)!
        }
        return body + digest
    }

    static let refusals: [Refusal] = [
        Refusal(label: "wrong chain id", reason: "it is of chain id 999") {
            try ZoneSnapshotIntegrationTests.rewritten($0, at: 20, [0, 0, 0, 0, 0, 0, 0x03, 0xE7])
        },
        Refusal(label: "wrong contract", reason: "it is of contract 0x" + String(repeating: "ab", count: 20)) {
            try ZoneSnapshotIntegrationTests.rewritten($0, at: 28, [UInt8](repeating: 0xAB, count: 20))
        },
        Refusal(label: "wrong version", reason: "format version 7") { try ZoneSnapshotIntegrationTests.rewritten($0, at: 8, [0, 0, 0, 7]) },
        Refusal(label: "bad checksum", reason: "checksum mismatch") { bytes in
            var bytes = bytes
            bytes[bytes.count - 40] ^= 0x20
            return bytes
        },
        Refusal(label: "truncated", reason: "truncated") { Array($0.prefix($0.count * 2 / 3)) },
    ]

    /// Each refused snapshot: the log line names why, onebzd starts cold (it reads the
    /// chain from the deploy block) and never answers from the refused file.
    @Test func refusedSnapshotsLeadToAColdStart() async throws {
        let stack = try await Self.stack("snap-refuse")
        try await Self.eventually(timeout: .seconds(30)) { stack.log().contains("zone snapshot written") }
        #expect(stack.onebzd.process.stop() == 0)
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.snapshot(stack))))
        for (index, refusal) in Self.refusals.enumerated() {
            try Data(try refusal.damage(good)).write(to: URL(fileURLWithPath: Self.snapshot(stack)))
            let server = try await Self.restart(stack, "snap-refuse-\(index)")
            try await Self.eventually(timeout: .seconds(20)) {
                try server.dig(["shashi.1bz", "TXT"]).status == "NOERROR"
            }
            let log = server.process.stderr()
            let line = log.split(separator: "\n").first { $0.contains("zone snapshot refused, cold start") }
            #expect(line?.contains(refusal.reason) == true, "\(refusal.label): \(line ?? "no refusal line")")
            #expect(!log.contains("zone snapshot loaded"), "\(refusal.label): a refused snapshot was loaded")
            #expect(log.contains("registered name set complete"), "\(refusal.label): no cold start")
            server.process.stop(signal: SIGKILL)
        }
    }

    /// A reorg while onebzd is stopped: the snapshot's block is no longer the chain's.
    /// After the restart the header check distrusts the snapshot, the chain is read again
    /// from the deploy block, the new fork's name answers and the lost fork's name is
    /// NXDOMAIN (answered from nothing the snapshot held).
    @Test func reorgWhileStoppedDistrustsTheSnapshot() async throws {
        let run = UInt32.random(in: 0...UInt32.max)
        let stack = try await Self.stack("snap-reorg")
        let fork = try await stack.devnet.snapshot()
        let lost = "lost-\(run).1bz"
        try await Self.registerNew(stack, lost)
        try await Self.eventually(timeout: .seconds(20)) { try stack.dig([lost, "TXT"]).status == "NOERROR" }
        #expect(stack.onebzd.process.stop() == 0, "a clean stop writes the last snapshot, with the lost name")

        // The other fork, longer: the snapshot's block number exists with another hash.
        try await stack.devnet.revert(to: fork)
        let kept = "kept-\(run).1bz"
        try await Self.registerNew(stack, kept)
        try await stack.devnet.mine(3)
        let server = try await Self.restart(stack, "snap-reorg-2")
        try await Self.eventually(timeout: .seconds(30)) { try server.dig([kept, "TXT"]).status == "NOERROR" }
        let gone = try server.dig([lost, "TXT"])
        #expect(gone.status == "NXDOMAIN" && gone.flags.contains("aa"), "\(gone)")
        #expect(try server.dig(["shashi.1bz", "TXT"]).status == "NOERROR")
        let log = server.process.stderr()
        #expect(log.contains("zone snapshot loaded"), "the snapshot itself is sound: loaded, then distrusted")
        #expect(log.contains("its block is no longer on the chain"), "\(log.suffix(3000))")
    }

    /// `kill -9` at random moments while names are being registered, `ONEBZ_CRASH_ROUNDS`
    /// times (default 10): after each restart, once caught up, every name registered before
    /// the kill answers, with its records, and unregistered names are NXDOMAIN; at the end
    /// every registered name answers.
    @Test func killNineDuringRegistrationsNeverLeavesWrongAnswers() async throws {
        let rounds = Int(ProcessInfo.processInfo.environment["ONEBZ_CRASH_ROUNDS"] ?? "") ?? 10
        let run = UInt32.random(in: 0...UInt32.max)
        // A production TTL: each round asks every name registered so far until all answer,
        // and with 1 s every pass would go to the chain again for every name (after the
        // first sync names are resolved through the chain, not read from the zone).
        let stack = try await Self.stack("snap-crash", interval: "100ms", positiveTTL: 300)
        try await Self.eventually(timeout: .seconds(30)) { stack.log().contains("zone snapshot written") }
        let registered = Registered()
        let registrar = Task {
            var index = 0
            while !Task.isCancelled {
                let name = "crash-\(run)-\(index).1bz"
                try await Self.registerNew(stack, name)
                await registered.add(name)
                index += 1
                // A few registrations a second (the devnet mines each at once): the kills
                // land between and during them, and every round checks every name.
                try await Task.sleep(for: .milliseconds(400))
            }
        }
        var process = stack.onebzd.process
        var servers: [OnebzdServer] = []
        var port = stack.onebzd.port
        var restarts: [Duration] = []
        for round in 0..<rounds {
            try await Task.sleep(for: .milliseconds(Int.random(in: 200...1500)))
            process.stop(signal: SIGKILL)
            let confirmed = await registered.names
            let server = try await Self.restart(stack, "snap-crash-\(round)")
            servers.append(server)
            (process, port) = (server.process, server.port)
            let started = ContinuousClock.now
            // Caught up: every name registered before the kill answers.
            try await Self.eventually(timeout: .seconds(20)) {
                try Self.digAll(port, confirmed, type: "TXT").values.allSatisfy { $0.status == "NOERROR" }
            }
            restarts.append(ContinuousClock.now - started)
            let answers = try Self.digAll(port, confirmed, type: "TXT")
            for name in confirmed {
                #expect(answers[name]?.txt["verified"] == "no", "round \(round): \(name)")
                #expect(answers[name]?.txt["wallet"] == stack.devnet.info.accounts[3].lowercased(), "round \(round): \(name)")
            }
            let never = (0..<5).map { "never-\(run)-\(round)-\($0).1bz" }
            #expect(try Self.digAll(port, never, type: "A").values.allSatisfy { $0.status == "NXDOMAIN" }, "round \(round)")
            let log = process.stderr()
            #expect(!log.contains("zone snapshot refused"), "round \(round): \(log.suffix(2000))")
        }
        registrar.cancel()
        _ = try? await registrar.value
        print("zone snapshot: \(rounds) kill -9 rounds, \((await registered.names).count) names registered, catch-up \(restarts)")

        // The end: what onebzd answers is what a cold read of the chain gives.
        let all = await registered.names
        #expect(all.count >= rounds, "registrations went on during the rounds")
        try await Self.eventually(timeout: .seconds(20)) {
            try Self.digAll(port, all, type: "TXT").values.allSatisfy { $0.status == "NOERROR" }
        }
        let answers = try Self.digAll(port, all, type: "TXT")
        for name in all {
            #expect(answers[name]?.txt["verified"] == "no" && answers[name]?.answer.count == 2, "\(name)")
        }

        // A cold read of the chain and registry (`onebzd zone dump`: no snapshot) lists the
        // same names with the same records as the restarted onebzd answers. (A registration
        // cancelled with the registrar may have been mined without its receipt: every
        // dumped name is asked too.)
        let output = stack.directory.appendingPathComponent("dump.zone").path
        // The stack's 1 s timeouts are for its faults; a loaded test machine's devnet may
        // take longer for a cold read of everything.
        let dumpConfig = stack.directory.appendingPathComponent("dump.toml").path
        try String(contentsOfFile: Self.config(stack), encoding: .utf8)
            .replacingOccurrences(of: "timeout = \"1s\"", with: "timeout = \"10s\"")
            .write(toFile: dumpConfig, atomically: true, encoding: .utf8)
        let dump = try await Command.runAsync(
            "timeout",
            [
                "120", Repo.product("onebzd").path, "zone", "dump", "--config", dumpConfig,
                "--zone", Repo.root.appendingPathComponent("zones/1bz.zone").path, "--output", output,
            ])
        try #require(dump.status == 0, "zone dump: status \(dump.status), \(dump.stderr.suffix(3000))")
        var dumped: [String: Set<String>] = [:]
        for line in try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 5, fields[3] == "TXT", fields[0].hasPrefix("crash-\(run)-") else { continue }
            dumped[String(fields[0].dropLast()), default: []].insert(fields[4...].joined(separator: " "))
        }
        #expect(Set(all).isSubset(of: dumped.keys), "\(Set(all).subtracting(dumped.keys))")
        let asked = Array(Set(all).union(dumped.keys)).sorted()
        let again = try Self.digAll(port, asked, type: "TXT")
        for name in asked {
            #expect(again[name].map(Self.rdata) == dumped[name], "\(name)")
        }
    }
}

/// The names whose registration was mined (the registrar's receipts), in order.
actor Registered {
    private(set) var names: [String] = []
    func add(_ name: String) { names.append(name) }
}
