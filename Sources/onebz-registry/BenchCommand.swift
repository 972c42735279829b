import ArgumentParser
import ChainReader
import Foundation
import NIOHTTP1
import NodeRegistry

/// `onebz-registry bench`: a load generator that is a real client of the write API
/// (docs/performance.md, Registry writes). It PUTs a first signed record for each key
/// (the nodes must be registered on the registry's chain), then for `--seconds` sends
/// signed heartbeats (`POST /v1/verify`) and record updates (`PUT /v1/nodes/{id}`) from
/// `--connections` keep-alive HTTP/1.1 connections, each owning every C-th node so a
/// node's writes stay in order (timestamps and seqs only go up). Requests are signed
/// just before they are sent (libsodium, ~20-70 µs each: the tool prints its share), or
/// with `--presign N` N of each kind per node before the load phase starts.
/// A subcommand of the registry's binary: it needs the record and heartbeat signing of
/// NodeRegistry and is built by the same `swift build --product onebz-registry`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Load generator: signed heartbeats and record updates against a registry.")

    @Option(help: "The registry's host:port (plain HTTP).")
    var registry: String = "127.0.0.1:8080"

    @Option(help: "Node keys: a file of 32-byte Ed25519 seeds in hex, one a line (nodes registered on chain).")
    var keys: String

    @Option(help: "Concurrent keep-alive connections.")
    var connections: Int = 16

    @Option(help: "Seconds of load after the records are registered.")
    var seconds: Double = 10

    @Option(help: "Fraction of the writes that are record updates (the rest are heartbeats), 0...1.")
    var updates: Double = 0.5

    @Option(name: .customLong("bad-every"), help: "Every Nth write carries a bad signature (0: none); must get 403.")
    var badEvery: Int = 0

    @Option(
        help: "Heartbeats and records signed per node before the load phase (0: each signed just before it is sent).")
    var presign: Int = 0

    @Flag(name: .customLong("no-register"), help: "Skip the first PUT of each key (records are there already).")
    var noRegister = false

    @Option(help: "Write what was answered per node as JSON (accepted and rejected timestamps and seqs).")
    var report: String?

    func validate() throws {
        guard connections >= 1 else { throw ValidationError("invalid --connections \(connections): must be >= 1") }
        guard seconds >= 0 else { throw ValidationError("invalid --seconds \(seconds): must be >= 0") }
        guard (0...1).contains(updates) else { throw ValidationError("invalid --updates \(updates): must be 0...1") }
        guard badEvery >= 0 else { throw ValidationError("invalid --bad-every \(badEvery): must be >= 0") }
        guard hostPort != nil else { throw ValidationError("invalid --registry \(registry): expected host:port") }
    }

    var hostPort: (String, Int)? {
        guard let colon = registry.lastIndex(of: ":"), let port = Int(registry[registry.index(after: colon)...]) else {
            return nil
        }
        return (String(registry[..<colon]), port)
    }

    func run() async throws {
        let seeds = try Self.readSeeds(keys)
        guard seeds.count >= connections else {
            throw ValidationError(
                "\(seeds.count) keys for \(connections) connections: give at least one key per connection")
        }
        let (host, port) = hostPort!
        // A seq above anything an earlier run on the same database stored (ms since 1970;
        // a run sends far fewer than 1,000 updates per node and second).
        let seqBase = UInt64(Date().timeIntervalSince1970 * 1000)
        var nodes = seeds.map { BenchNode(key: Ed25519PrivateKey(seed: $0), seq: seqBase) }
        if presign > 0 {
            // Signed before any request is sent, on every core; the CPU printed below
            // counts from here (what sending costs, not signing).
            let now = Int64(Date().timeIntervalSince1970)
            let (heartbeats, records) = (updates < 1, updates > 0)
            let count = presign
            let chunks = stride(from: 0, to: nodes.count, by: 1_000).map { $0..<min($0 + 1_000, nodes.count) }
            let signed = try await withThrowingTaskGroup(of: (Range<Int>, [BenchNode]).self) { group in
                for range in chunks {
                    let part = Array(nodes[range])
                    group.addTask {
                        var part = part
                        for i in part.indices {
                            try part[i].presign(count, heartbeats: heartbeats, records: records, now: now)
                        }
                        return (range, part)
                    }
                }
                return try await group.reduce(into: [(Range<Int>, [BenchNode])]()) { $0.append($1) }
            }
            for (range, part) in signed { nodes.replaceSubrange(range, with: part) }
        }
        let cpuBefore = Self.processCPUSeconds()
        let plan = BenchPlan(
            updates: updates, badEvery: badEvery, register: !noRegister, seconds: seconds, presign: max(0, presign))
        let started = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: BenchWorker.Result.self) { group in
            for c in 0..<connections {
                let mine = stride(from: c, to: nodes.count, by: connections).map { nodes[$0] }
                group.addTask { try await BenchWorker(nodes: mine, plan: plan).run(host: host, port: port) }
            }
            return try await group.reduce(into: [BenchWorker.Result]()) { $0.append($1) }
        }
        let merged = BenchWorker.Result.merged(results)
        print(merged.summary(nodes: nodes.count, connections: connections, elapsed: ContinuousClock.now - started))
        print(
            String(
                format: "generator CPU: %.2f s (user + system, after presigning)", Self.processCPUSeconds() - cpuBefore)
        )
        if let report {
            let data = try JSONEncoder.sorted.encode(BenchReport(nodes: results.flatMap(\.nodes)))
            try data.write(to: URL(fileURLWithPath: report))
        }
        if merged.connectionErrors > 0 { throw ExitCode(3) }
    }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
            getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func readSeeds(_ path: String) throws -> [[UInt8]] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("cannot read --keys \(path): \(error.localizedDescription)")
        }
        return try text.split(whereSeparator: \.isNewline).enumerated().map { n, line in
            let hex = line.trimmingCharacters(in: .whitespaces)
            guard hex.count == 64, let bytes = Hex.decode(hex) else {
                throw ValidationError("--keys \(path) line \(n + 1): expected 64 hex digits (an Ed25519 seed)")
            }
            return bytes
        }
    }
}

/// What the generator is asked to do; shared by every connection.
struct BenchPlan: Sendable {
    var updates: Double
    var badEvery: Int
    var register: Bool
    var seconds: Double
    var presign: Int

    /// Whether the n-th write (0-based) of a connection is a record update: spreads the
    /// fraction evenly rather than at random, so short runs get it exactly.
    func isUpdate(_ n: Int) -> Bool { Int(Double(n + 1) * updates) > Int(Double(n) * updates) }
    func isBad(_ n: Int) -> Bool { badEvery > 0 && (n + 1) % badEvery == 0 }
}

/// One node as the generator drives it: its key and the last timestamp and seq it used.
struct BenchNode: Sendable {
    let key: Ed25519PrivateKey
    let nodeID: String
    var seq: UInt64
    var lastTimestamp: Int64 = 0

    init(key: Ed25519PrivateKey, seq: UInt64) {
        self.key = key
        nodeID = key.publicKey.nodeID.hex
        self.seq = seq
    }

    /// The next record: a new seq and an address that changes with it.
    mutating func nextRecord() throws -> NodeMetadata {
        seq += 1
        let s = Int(seq % 16_777_216)
        return try NodeMetadata.signed(
            by: key, ipv4: ["10.\(s >> 16).\((s >> 8) & 255).\(s & 255)"], ipv6: [], seq: seq)
    }

    private var presignedHeartbeats: [(timestamp: Int64, body: [UInt8])] = []
    private var presignedRecords: [(seq: UInt64, body: [UInt8])] = []

    /// Signs `count` heartbeats (timestamps from `now` up) and/or records ahead.
    mutating func presign(_ count: Int, heartbeats: Bool, records: Bool, now: Int64) throws {
        var copy = self
        for _ in 0..<count {
            if heartbeats {
                let hb = copy.nextHeartbeat(now: now)
                presignedHeartbeats.append((hb.timestamp, Array(try JSONEncoder().encode(hb))))
            }
            if records {
                let r = try copy.nextRecord()
                presignedRecords.append((r.seq, Array(try JSONEncoder().encode(r))))
            }
        }
        presignedHeartbeats.reverse()
        presignedRecords.reverse()
    }

    /// The next presigned heartbeat's body, if one is left and not too old for the
    /// registry's clock window (it then counts as sent: `lastTimestamp` moves).
    mutating func takeHeartbeat(now: Int64) -> [UInt8]? {
        while let next = presignedHeartbeats.popLast() {
            guard next.timestamp > lastTimestamp, next.timestamp > now - 200 else { continue }
            lastTimestamp = next.timestamp
            return next.body
        }
        return nil
    }

    /// The next presigned record's body, if one is left (`seq` moves to it).
    mutating func takeRecord() -> [UInt8]? {
        while let next = presignedRecords.popLast() {
            guard next.seq > seq else { continue }
            seq = next.seq
            return next.body
        }
        return nil
    }

    /// The next heartbeat: now, or one second after the last when a node beats faster
    /// than once a second (the registry refuses a timestamp that does not go up).
    mutating func nextHeartbeat(now: Int64) -> Heartbeat {
        lastTimestamp = max(now, lastTimestamp + 1)
        return Heartbeat.signed(by: key, timestamp: lastTimestamp)
    }
}

/// What the registry answered per node (`--report`): the integration tests check that
/// every accepted write is stored and no rejected one is.
struct BenchReport: Codable {
    struct Node: Codable {
        var nodeID: String
        var heartbeats: [Int64] = []
        var seqs: [UInt64] = []
        var rejectedHeartbeats: [Int64] = []
        var rejectedSeqs: [UInt64] = []

        enum CodingKeys: String, CodingKey {
            case nodeID = "node_id"
            case heartbeats, seqs
            case rejectedHeartbeats = "rejected_heartbeats"
            case rejectedSeqs = "rejected_seqs"
        }
    }
    var nodes: [Node]
}
