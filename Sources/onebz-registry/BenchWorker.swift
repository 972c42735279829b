import Foundation
import NIOHTTP1
import NodeRegistry

/// One connection of `onebz-registry bench`: registers its nodes' records, then writes
/// in a loop over its nodes until the time is up. A broken connection (the registry
/// was killed) ends the worker with what it saw so far.
struct BenchWorker {
    var nodes: [BenchNode]
    let plan: BenchPlan

    enum Kind: String, CaseIterable { case register, heartbeat, update, bad }

    struct Result {
        var latencies: [Kind: [Double]] = [:]  // milliseconds, answered 2xx
        var statuses: [Kind: [String: Int]] = [:]  // "409 replay" -> count
        var signing: Duration = .zero
        var signed = 0
        var connectionErrors = 0
        var loadSeconds = 0.0
        var nodes: [BenchReport.Node] = []

        mutating func note(_ kind: Kind, _ answer: BenchConnection.Answer, ms: Double) {
            if (200..<300).contains(answer.status) { latencies[kind, default: []].append(ms) }
            let key = answer.errorCode.isEmpty ? "\(answer.status)" : "\(answer.status) \(answer.errorCode)"
            statuses[kind, default: [:]][key, default: 0] += 1
        }

        static func merged(_ parts: [Result]) -> Result {
            var r = Result()
            for p in parts {
                r.latencies.merge(p.latencies) { $0 + $1 }
                r.statuses.merge(p.statuses) { a, b in a.merging(b, uniquingKeysWith: +) }
                r.signing += p.signing
                r.signed += p.signed
                r.connectionErrors += p.connectionErrors
                r.loadSeconds = max(r.loadSeconds, p.loadSeconds)
            }
            return r
        }

        func summary(nodes: Int, connections: Int, elapsed: Duration) -> String {
            var lines = ["bench: \(nodes) nodes, \(connections) connections, load \(Self.fmt(loadSeconds)) s"]
            var writes = 0
            for kind in Kind.allCases {
                guard let s = statuses[kind] else { continue }
                let ok = (latencies[kind] ?? []).sorted()
                let seconds = kind == .register ? 0 : loadSeconds
                if kind == .heartbeat || kind == .update { writes += ok.count }
                let codes = s.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                let rate = seconds > 0 ? "\(Int(Double(ok.count) / seconds))/s" : "-"
                lines.append(
                    "\(kind.rawValue): \(ok.count) ok, \(rate), p50 \(Self.fmt(Self.percentile(ok, 0.50))) ms, "
                        + "p99 \(Self.fmt(Self.percentile(ok, 0.99))) ms; answers {\(codes)}")
            }
            if loadSeconds > 0 {
                lines.append("writes: \(Int(Double(writes) / loadSeconds))/s (heartbeats + updates, 2xx)")
            }
            if signed > 0 {
                let us = Double(signing.components.attoseconds) / 1e12 + Double(signing.components.seconds) * 1e6
                lines.append("signing: \(Self.fmt(us / Double(signed))) µs per request, \(Self.fmt(us / 1e6)) s of CPU")
            }
            if connectionErrors > 0 { lines.append("connection errors: \(connectionErrors)") }
            return lines.joined(separator: "\n")
        }

        static func percentile(_ sorted: [Double], _ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }

        static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
    }

    func run(host: String, port: Int) async throws -> Result {
        var result = Result()
        var nodes = nodes
        var reports = nodes.map { BenchReport.Node(nodeID: $0.nodeID) }
        do {
            let connection = try await BenchConnection(host: host, port: port)
            try await connection.run { send in
                func timed(_ kind: Kind, _ method: HTTPMethod, _ path: String, _ body: [UInt8]) async throws -> Bool {
                    let t0 = ContinuousClock.now
                    let answer = try await send(method, path, body)
                    let d = ContinuousClock.now - t0
                    result.note(
                        kind, answer, ms: Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1e3)
                    return (200..<300).contains(answer.status)
                }
                func signedBody(_ make: () throws -> some Encodable) throws -> [UInt8] {
                    let t0 = ContinuousClock.now
                    let value = try make()
                    result.signing += ContinuousClock.now - t0
                    result.signed += 1
                    return Array(try JSONEncoder().encode(value))
                }
                if plan.register {
                    for i in nodes.indices {
                        let body = try signedBody { try nodes[i].nextRecord() }
                        if try await timed(.register, .PUT, "/v1/nodes/\(nodes[i].nodeID)", body) {
                            reports[i].seqs.append(nodes[i].seq)
                        }
                    }
                }
                let start = ContinuousClock.now
                let deadline = start + .milliseconds(Int64(plan.seconds * 1000))
                var n = 0
                while ContinuousClock.now < deadline {
                    let i = n % nodes.count
                    let bad = plan.isBad(n)
                    if plan.isUpdate(n) {
                        var body = try nodes[i].takeRecord() ?? signedBody { try nodes[i].nextRecord() }
                        if bad { body = Self.corruptSignature(body) }
                        let ok = try await timed(bad ? .bad : .update, .PUT, "/v1/nodes/\(nodes[i].nodeID)", body)
                        if ok {
                            reports[i].seqs.append(nodes[i].seq)
                        } else if bad {
                            reports[i].rejectedSeqs.append(nodes[i].seq)
                        }
                    } else {
                        let now = Int64(Date().timeIntervalSince1970)
                        var body =
                            try nodes[i].takeHeartbeat(now: now) ?? signedBody { nodes[i].nextHeartbeat(now: now) }
                        if bad { body = Self.corruptSignature(body) }
                        let ok = try await timed(bad ? .bad : .heartbeat, .POST, "/v1/verify", body)
                        if ok {
                            reports[i].heartbeats.append(nodes[i].lastTimestamp)
                        } else if bad {
                            reports[i].rejectedHeartbeats.append(nodes[i].lastTimestamp)
                        }
                    }
                    n += 1
                }
                result.loadSeconds =
                    Double((ContinuousClock.now - start).components.seconds)
                    + Double((ContinuousClock.now - start).components.attoseconds) / 1e18
            }
        } catch {
            result.connectionErrors += 1
            FileHandle.standardError.write(Data("bench: connection ended: \(error)\n".utf8))
        }
        result.nodes = reports
        return result
    }

    /// The same JSON with the signature's first base64 character changed: still a
    /// well-formed 64-byte signature, of other bytes, so the registry must answer 403.
    static func corruptSignature(_ body: [UInt8]) -> [UInt8] {
        var body = body
        let key = Array(#""signature":""#.utf8)
        guard let at = (0...(body.count - key.count)).first(where: { body[$0..<$0 + key.count].elementsEqual(key) })
        else {
            return body
        }
        let i = at + key.count
        body[i] = body[i] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        return body
    }
}
