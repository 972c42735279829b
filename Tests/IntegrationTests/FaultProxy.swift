import Foundation

#if canImport(Glibc)
import Glibc
#endif
import TestSupport

/// tools/faultproxy.py in front of an HTTP upstream (a JSON-RPC endpoint or the
/// registry): forwards everything until a test switches a fault on with `inject`.
final class FaultProxy: @unchecked Sendable {
    // @unchecked: `process` is replaced only by restart(), called from the test's one
    // task; the rest is immutable after init.
    enum Fault: String, CaseIterable, Sendable {
        case pass, hang, reset, http500, rpcError = "rpc_error", malformed, shortResult = "short_result"
        case wrongID = "wrong_id", forge
        // Well-formed chain lies (tools/faultproxy.py): proof mode must see through them.
        case rewriteCall = "rewrite_call", proofOtherBlock = "proof_other_block", forgeProof = "forge_proof"
        case otherHash = "other_hash", withhold, forgeStateRoot = "forge_state_root"
    }

    let port: Int
    let targetPort: Int
    let name: String
    let directory: URL
    let controlPath: String
    let statsPath: String
    /// The provider preset (`--profile`: capped, results, public), if any.
    let profile: String?
    private(set) var process: ManagedProcess
    private var generation = 0

    var url: String { "http://127.0.0.1:\(port)" }

    init(name: String, targetPort: Int, directory: URL, profile: String? = nil) async throws {
        self.name = name
        self.profile = profile
        self.targetPort = targetPort
        self.directory = directory
        port = FreePort.next()
        controlPath = directory.appendingPathComponent("\(name)-control.json").path
        statsPath = directory.appendingPathComponent("\(name)-stats.json").path
        process = try Self.start(
            name: name, port: port, target: targetPort, control: controlPath, stats: statsPath, directory: directory,
            generation: 0, profile: profile)
        try await process.waitForTCP(port: port)
    }

    /// Switches the fault (read by the proxy on its next request). `methods` / `paths`
    /// restrict it to some JSON-RPC methods or URL path prefixes.
    func inject(
        _ fault: Fault, delay: Double? = nil, methods: [String]? = nil, paths: [String]? = nil,
        extra: [String: String] = [:]
    ) throws {
        var control: [String: Any] = extra.merging(["mode": fault.rawValue]) { $1 }
        if let delay { control["delay"] = delay }
        if let methods { control["methods"] = methods }
        if let paths { control["paths"] = paths }
        let data = try JSONSerialization.data(withJSONObject: control)
        // Written aside and renamed: the proxy never reads half a file.
        try data.write(to: URL(fileURLWithPath: controlPath + ".tmp"))
        guard rename(controlPath + ".tmp", controlPath) == 0 else { throw TestProcessError("rename failed: \(errno)") }
    }

    /// Switches provider behaviours on top of the preset (tools/faultproxy.py, "provider").
    func provider(_ settings: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: ["mode": "pass", "provider": settings])
        try data.write(to: URL(fileURLWithPath: controlPath + ".tmp"))
        guard rename(controlPath + ".tmp", controlPath) == 0 else { throw TestProcessError("rename failed: \(errno)") }
    }

    /// Request counts: JSON-RPC methods or paths seen, "fault:<mode>" per fault injected.
    func count(_ key: String) -> Int {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: statsPath)),
            let counts = try? JSONDecoder().decode([String: Int].self, from: data)
        else { return 0 }
        return counts[key] ?? 0
    }

    /// Connection refused until `restart()`.
    func stop() { process.stop() }

    func restart() async throws {
        process.stop()
        generation += 1
        process = try Self.start(
            name: name, port: port, target: targetPort, control: controlPath, stats: statsPath, directory: directory,
            generation: generation, profile: profile)
        try await process.waitForTCP(port: port)
    }

    private static func start(
        name: String, port: Int, target: Int, control: String, stats: String, directory: URL, generation: Int,
        profile: String?
    ) throws -> ManagedProcess {
        try ManagedProcess(
            name: "\(name)-\(generation)", executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [
                "python3", Repo.root.appendingPathComponent("tools/faultproxy.py").path,
                "--listen", "127.0.0.1:\(port)", "--target", "127.0.0.1:\(target)", "--control", control,
                "--stats", stats,
            ] + (profile.map { ["--profile", $0] } ?? []),
            logDirectory: directory)
    }

    deinit { process.stop() }
}
