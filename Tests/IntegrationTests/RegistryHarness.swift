import Foundation
import NodeRegistry
import TestSupport

/// A devnet with the sample nodes (TestSupport's Devnet) plus an onebz-registry on a free
/// loopback port, both real processes stopped by PID when the harness goes away.
final class RegistryHarness: @unchecked Sendable {
    // @unchecked: `registry` and `generation` change only in restart(), which a test calls
    // sequentially from its one task; everything else is immutable after init.
    let dir: URL
    let devnet: Devnet
    let port: Int
    let dbPath: String
    private(set) var registry: ManagedProcess
    private var generation = 0
    var samples: [Devnet.SampleNode] { devnet.sampleNodes }
    var baseURL: String { "http://127.0.0.1:\(port)" }
    var client: RegistryClient { RegistryClient(baseURL: baseURL, timeout: .seconds(5)) }

    /// More `onebz-registry` flags (kept across restarts).
    let extraArguments: [String]

    init(_ label: String, extraArguments: [String] = []) async throws {
        self.extraArguments = extraArguments
        devnet = try await Devnet.start(label: label + "-devnet")
        dir = try Repo.scratchDirectory(label)
        port = FreePort.next()
        dbPath = dir.appendingPathComponent("registry.sqlite").path
        registry = try Self.startRegistry(
            dir: dir, port: port, db: dbPath, devnet: devnet, generation: 0, extraArguments: extraArguments)
        try await registry.waitForTCP(port: port)
    }

    private static func startRegistry(
        dir: URL, port: Int, db: String, devnet: Devnet, generation: Int, extraArguments: [String]
    ) throws -> ManagedProcess {
        try RegistryServer.start(
            devnet: devnet, port: port, database: db, logDirectory: dir, name: "registry-\(generation)",
            extraArguments: extraArguments)
    }

    /// Stops the registry with `signal` (SIGKILL = crash) and starts it again on the same database.
    func restart(signal: Int32) async throws {
        registry.stop(signal: signal)
        generation += 1
        registry = try Self.startRegistry(
            dir: dir, port: port, db: dbPath, devnet: devnet, generation: generation, extraArguments: extraArguments)
        try await registry.waitForTCP(port: port)
    }

    func stop() {
        registry.stop()
        devnet.stop()
    }

    /// A raw HTTP exchange with curl: (status, body).
    func http(_ method: String, _ path: String, body: Data? = nil) throws -> (Int, String) {
        var args = ["-s", "-S", "-X", method, "-o", "-", "-w", "\n%{http_code}", baseURL + path]
        if body != nil { args += ["-H", "Content-Type: application/json", "--data-binary", "@-"] }
        let r = try Command.run("curl", args, input: body)
        let out = r.stdout
        guard let nl = out.lastIndex(of: "\n"), let status = Int(out[out.index(after: nl)...]) else {
            throw TestProcessError("curl \(method) \(path) failed: \(r.stderr)")
        }
        return (status, String(out[..<nl]))
    }

    /// The `error` code of a JSON error body.
    static func errorCode(_ body: String) -> String? {
        (try? JSONDecoder().decode(RegistryErrorBody.self, from: Data(body.utf8)))?.error
    }

    deinit { stop() }
}

extension Devnet.SampleNode {
    var key: Ed25519PrivateKey {
        try! Ed25519PrivateKey(pem: String(contentsOfFile: privateKeyPath, encoding: .utf8))
    }
    var id: NodeID { NodeID(hex: nodeID)! }
}
