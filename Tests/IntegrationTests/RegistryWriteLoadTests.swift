import Foundation
import NodeRegistry
import TestSupport
import Testing

/// Many concurrent writers against the real onebz-registry (group commit, docs/registry.md
/// "Storage and durability"): `onebz-registry bench` as the client (20 keep-alive
/// connections, signed heartbeats and record updates, every 7th write with a bad
/// signature), nodes registered on a real devnet. What a 2xx answered must be stored,
/// once; what was refused must not be.
@Suite(.serialized) struct RegistryWriteLoadTests {
    @Test func concurrentWritersLandOnceAndBadSignaturesNever() async throws {
        let h = try await RegistryHarness("registry-write-load")
        defer { h.stop() }
        let keys = try await Self.registeredKeys(h, count: 40)
        let run = try await Self.bench(h, keys: keys, seconds: 6)
        #expect(run.result.status == 0, "bench failed: \(run.result.stdout) \(run.result.stderr)")
        let output = run.result.stdout
        #expect(output.contains("bad: 0 ok"), "a write with a bad signature was accepted: \(output)")
        // Refused as bad_signature only: 403, or 400 when the corruption hit a JSON escape
        // (`\/`) and the base64 no longer decodes to 64 bytes.
        #expect(
            output.range(
                of: #"bad: 0 ok, [^\n]*answers \{(40[03] bad_signature: \d+(, )?)+\}"#, options: .regularExpression)
                != nil, "\(output)")
        let accepted = run.report.nodes.reduce(0) { $0 + $1.heartbeats.count + $1.seqs.count }
        #expect(accepted >= 1_000, "only \(accepted) writes accepted: \(output)")
        #expect(
            run.report.nodes.contains { !$0.rejectedHeartbeats.isEmpty }
                && run.report.nodes.contains { !$0.rejectedSeqs.isEmpty })
        try await Self.expectStored(h, run.report, exact: true)
        // Durable: the same after a crash.
        try await h.restart(signal: SIGKILL)
        try await Self.expectStored(h, run.report, exact: true)
    }

    @Test func acknowledgedWritesSurviveKill9DuringABurst() async throws {
        let h = try await RegistryHarness("registry-write-crash")
        defer { h.stop() }
        let keys = try await Self.registeredKeys(h, count: 40)
        async let burst = Self.bench(h, keys: keys, seconds: 30)
        // Kill once the burst is well under way (the feed has grown), not after a fixed time.
        let deadline = ContinuousClock.now + .seconds(60)
        while try await Self.feed(h).count < 300, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await h.restart(signal: SIGKILL)
        let run = try await burst
        #expect(
            run.result.stderr.contains("connection ended"), "the burst was not cut by the kill: \(run.result.stderr)")
        let accepted = run.report.nodes.reduce(0) { $0 + $1.heartbeats.count + $1.seqs.count }
        #expect(accepted >= 300)
        try await Self.expectStored(h, run.report, exact: false)
        let integrity = try Command.run(
            "python3",
            [
                "-c",
                "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('pragma integrity_check').fetchone()[0])",
                h.dbPath,
            ])
        #expect(integrity.stdout == "ok\n", "\(integrity.stderr)")
    }

    // MARK: Helpers

    /// `onebz-registry bench --report`: what the registry answered, per node.
    struct LoadReport: Decodable {
        struct Node: Decodable {
            var nodeID: String
            var heartbeats: [Int64]
            var seqs: [UInt64]
            var rejectedHeartbeats: [Int64]
            var rejectedSeqs: [UInt64]

            enum CodingKeys: String, CodingKey {
                case nodeID = "node_id"
                case heartbeats, seqs
                case rejectedHeartbeats = "rejected_heartbeats"
                case rejectedSeqs = "rejected_seqs"
            }
        }
        var nodes: [Node]
    }

    struct Run {
        var result: CommandResult
        var report: LoadReport
    }

    /// `count` fresh keys, each registered on the devnet under a name of its own.
    static func registeredKeys(_ h: RegistryHarness, count: Int) async throws -> [Ed25519PrivateKey] {
        var keys: [Ed25519PrivateKey] = []
        let tag = UInt32.random(in: 0...UInt32.max)
        for i in 0..<count {
            let key = Ed25519PrivateKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
            let receipt = try await h.devnet.registerNode(
                nodeHash: key.publicKey.nodeID.nodeHash.hex, name: "load\(i)-\(tag).1bz")
            #expect(receipt.succeeded)
            keys.append(key)
        }
        return keys
    }

    /// Runs the load generator: 20 connections, half record updates, every 7th write badly signed.
    static func bench(_ h: RegistryHarness, keys: [Ed25519PrivateKey], seconds: Int) async throws -> Run {
        let keyFile = h.dir.appendingPathComponent("keys-\(UUID().uuidString.prefix(6)).txt")
        try keys.map { $0.seed.map { String(format: "%02x", $0) }.joined() }.joined(separator: "\n")
            .write(to: keyFile, atomically: true, encoding: .utf8)
        let reportFile = keyFile.deletingPathExtension().appendingPathExtension("report.json")
        let result = try await Command.runAsync(
            Repo.product("onebz-registry").path,
            [
                "bench", "--registry", "127.0.0.1:\(h.port)", "--keys", keyFile.path, "--connections", "20",
                "--seconds", "\(seconds)", "--updates", "0.5", "--bad-every", "7", "--report", reportFile.path,
            ])
        let report = try JSONDecoder().decode(LoadReport.self, from: Data(contentsOf: reportFile))
        return Run(result: result, report: report)
    }

    /// Every change-feed row from the start.
    static func feed(_ h: RegistryHarness) async throws -> [ChangePage.Change] {
        var rows: [ChangePage.Change] = []
        var cursor: UInt64 = 0
        while true {
            let page = try await h.client.changes(since: cursor)
            if page.changes.isEmpty { return rows }
            rows += page.changes
            cursor = page.next
        }
    }

    /// Each accepted write is stored and no refused one is: heartbeats by (node, timestamp)
    /// in the database, records by their seq; the feed has one row per accepted record
    /// (`exact`), or at most one more per node (a write in flight when the registry was
    /// killed may have committed unanswered). The test's nodes are neither verified nor
    /// staked, so heartbeats move no trust score and write no feed rows.
    static func expectStored(_ h: RegistryHarness, _ report: LoadReport, exact: Bool) async throws {
        let stored = try Command.run(
            "python3",
            [
                "-c",
                "import sqlite3,sys\nfor r in sqlite3.connect(sys.argv[1]).execute('select node_id, ts from heartbeats'): print(r[0], r[1])",
                h.dbPath,
            ])
        let beats = Set(stored.stdout.split(separator: "\n").map(String.init))
        let rows = try await feed(h)
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.cursor < $1.cursor }, "feed cursors not increasing")
        let perNode = Dictionary(grouping: rows, by: \.nodeID).mapValues(\.count)
        for node in report.nodes {
            for ts in node.heartbeats {
                #expect(beats.contains("\(node.nodeID) \(ts)"), "accepted heartbeat \(node.nodeID) \(ts) not stored")
            }
            for ts in node.rejectedHeartbeats {
                #expect(!beats.contains("\(node.nodeID) \(ts)"), "refused heartbeat \(node.nodeID) \(ts) stored")
            }
            guard let lastSeq = node.seqs.max() else { continue }
            let entry = try await h.client.fetch(nodeId: NodeID(hex: node.nodeID)!)
            let rowsForNode = perNode[node.nodeID] ?? 0
            if exact {
                #expect(entry.metadata.seq == lastSeq)
                #expect(
                    rowsForNode == node.seqs.count,
                    "\(node.nodeID): \(rowsForNode) feed rows for \(node.seqs.count) records")
                #expect(entry.lastHeartbeat == node.heartbeats.max())
            } else {
                #expect(entry.metadata.seq >= lastSeq, "an acknowledged record of \(node.nodeID) was lost")
                #expect(
                    (node.seqs.count...node.seqs.count + 1).contains(rowsForNode),
                    "\(node.nodeID): \(rowsForNode) rows, \(node.seqs.count) records")
            }
            #expect(!node.rejectedSeqs.contains(entry.metadata.seq))
        }
    }
}
