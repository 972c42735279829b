import Foundation
import NodeRegistry
import TestSupport

/// A devnet with the sample nodes plus an onebz-registry on free loopback ports, both
/// real processes stopped by PID when the harness goes away.
final class RegistryHarness: @unchecked Sendable {
    // @unchecked: `registry` is replaced only by restart(), which tests call sequentially
    // from one task; everything else is immutable after init.
    struct Sample: Decodable {
        let name: String
        let node_id: String
        let node_hash: String
        let private_key_path: String
        let wallet: String
        var key: Ed25519PrivateKey { try! Ed25519PrivateKey(pem: String(contentsOfFile: private_key_path, encoding: .utf8)) }
        var nodeID: NodeID { NodeID(hex: node_id)! }
    }
    struct DevnetInfo: Decodable {
        let rpc_url: String
        let contract_address: String
        let deploy_block: Int
    }

    let dir: URL
    let devnet: ManagedProcess
    let info: DevnetInfo
    let samples: [Sample]
    let port: Int
    let dbPath: String
    private(set) var registry: ManagedProcess
    var baseURL: String { "http://127.0.0.1:\(port)" }
    var client: RegistryClient { RegistryClient(baseURL: baseURL, timeout: .seconds(5)) }

    init(_ label: String) async throws {
        dir = try Repo.scratchDirectory(label)
        let devnetPort = FreePort.next()
        let state = dir.appendingPathComponent("devnet")
        devnet = try ManagedProcess(
            name: "devnet", executable: Repo.root.appendingPathComponent("scripts/devnet"),
            arguments: ["--port", "\(devnetPort)", "--state-dir", state.path, "--sample"],
            logDirectory: dir, environment: ["DEVNET_NO_INSTALL": "1"])
        let infoURL = state.appendingPathComponent("devnet.json")
        try await devnet.waitUntil(timeout: .seconds(60)) { FileManager.default.fileExists(atPath: infoURL.path) }
        info = try JSONDecoder().decode(DevnetInfo.self, from: Data(contentsOf: infoURL))
        samples = try JSONDecoder().decode(
            [Sample].self, from: Data(contentsOf: state.appendingPathComponent("sample-nodes.json")))
        port = FreePort.next()
        dbPath = dir.appendingPathComponent("registry.sqlite").path
        registry = try Self.startRegistry(dir: dir, port: port, db: dbPath, info: info, generation: 0)
        try await registry.waitForTCP(port: port)
    }

    private static func startRegistry(dir: URL, port: Int, db: String, info: DevnetInfo, generation: Int) throws -> ManagedProcess {
        try ManagedProcess(
            name: "registry-\(generation)", executable: Repo.product("onebz-registry"),
            arguments: [
                "--db", db, "--listen", "127.0.0.1:\(port)", "--rpc", info.rpc_url, "--contract", info.contract_address,
                "--deploy-block", "\(info.deploy_block)", "--poll-interval", "0.2",
            ],
            logDirectory: dir)
    }

    private var generation = 0

    /// Stops the registry with `signal` (SIGKILL = crash) and starts it again on the same database.
    func restart(signal: Int32) async throws {
        registry.stop(signal: signal)
        generation += 1
        registry = try Self.startRegistry(dir: dir, port: port, db: dbPath, info: info, generation: generation)
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

    /// Sends `verifyNode(nodeHash)` with the fee from the node's wallet (eth-tester accounts are unlocked).
    func verifyOnChain(_ sample: Sample) throws {
        let script = """
            import json, sys, urllib.request
            from eth_hash.auto import keccak
            rpc, to, frm, h = sys.argv[1:5]
            def call(method, params):
                req = urllib.request.Request(rpc, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                    "params": params}).encode(), {"Content-Type": "application/json"})
                reply = json.load(urllib.request.urlopen(req))
                if "error" in reply: raise SystemExit(str(reply["error"]))
                return reply["result"]
            sel = lambda sig: "0x" + keccak(sig.encode())[:4].hex()
            fee = int(call("eth_call", [{"to": to, "data": sel("verificationFee()")}, "latest"]), 16)
            call("eth_sendTransaction", [{"from": frm, "to": to, "data": sel("verifyNode(bytes32)") + h[2:],
                "value": hex(fee), "gas": hex(500000)}])
            print("ok")
            """
        let python = Repo.root.appendingPathComponent(".venv-devnet/bin/python").path
        let r = try Command.run(python, ["-c", script, info.rpc_url, info.contract_address, sample.wallet, sample.node_hash])
        guard r.status == 0 else { throw TestProcessError("verifyNode failed: \(r.stderr)") }
    }

    deinit { stop() }
}
