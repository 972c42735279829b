import ChainReader
import Foundation
import NodeRegistry
import TestSupport

/// The whole product on loopback, as a user runs it: a devnet with the sample nodes,
/// the fault-injection proxy in front of the devnet's RPC (tools/faultproxy.py in
/// pass mode: counts JSON-RPC methods; stopping it is an RPC outage), the real onebz-registry with the samples' signed
/// records published, and the real onebzd configured by a TOML file.
final class DynamicStack: @unchecked Sendable {
    // @unchecked: `proxy` is replaced only by restartProxy(), which a test calls from
    // its one task; everything else is immutable after init.
    let directory: URL
    let devnet: Devnet
    let registry: ManagedProcess
    let registryPort: Int
    /// The registry's certificate when it serves HTTPS (`registryTLS:`).
    let registryCertificate: TestCertificate?
    /// `http://127.0.0.1:PORT`, or `https://` with `registryTLS:`.
    var registryBaseURL: String { "\(registryCertificate == nil ? "http" : "https")://127.0.0.1:\(registryPort)" }
    private(set) var proxy: ManagedProcess
    let proxyPort: Int
    let statsPath: String
    let onebzd: OnebzdServer
    /// onebzd's HTTP gateway (DoH, /resolve, the page, /metrics).
    let httpPort: Int
    var gatewayURL: String { "http://127.0.0.1:\(httpPort)" }
    let pollInterval: Duration
    /// `[chain] materialize` is on (the default; `extraConfig` can turn it off).
    let materializing: Bool

    /// The sample nodes' published addresses.
    static func addresses(of name: String) -> (ipv4: [String], ipv6: [String]) {
        switch name {
        case "shashi.1bz": (["192.0.2.10", "192.0.2.11"], ["2001:db8::10"])
        case "acme.1bz": (["198.51.100.20"], [])
        default: ([], [])
        }
    }

    init(
        label: String, positiveTTL: Int = 300, maxStale: String = "1d", pollMilliseconds: Int = 200,
        registryURL: String? = nil, publish: Bool = true, extraConfig: String = "", onebzdArguments: [String] = [],
        registryTLS: TestCertificate? = nil, registryConfig: String = "", waitForReady: Bool = true,
        mineInterval: Double? = nil
    ) async throws {
        directory = try Repo.scratchDirectory(label)
        pollInterval = .milliseconds(pollMilliseconds)
        materializing = !extraConfig.contains("materialize = false")
        // `mineInterval`: the devnet also mines an empty block every that many seconds.
        devnet = try await Devnet.start(label: label + "-devnet", mineInterval: mineInterval)

        proxyPort = FreePort.next()
        statsPath = directory.appendingPathComponent("rpc-stats.json").path
        proxy = try Self.startProxy("rpc-proxy-0", port: proxyPort, devnet: devnet, stats: statsPath, directory: directory)
        try await proxy.waitForTCP(port: proxyPort)

        registryPort = FreePort.next()
        registryCertificate = registryTLS
        registry = try RegistryServer.start(
            devnet: devnet, port: registryPort, database: directory.appendingPathComponent("registry.sqlite").path,
            logDirectory: directory, extraArguments: registryTLS?.registryArguments ?? [])
        try await registry.waitForTCP(port: registryPort)
        if publish {
            for name in ["shashi.1bz", "acme.1bz"] {
                let (v4, v6) = Self.addresses(of: name)
                try await Self.publish(
                    for: devnet.sample(name)!, ipv4: v4, ipv6: v6, seq: 1,
                    registry: "\(registryTLS == nil ? "http" : "https")://127.0.0.1:\(registryPort)", certificate: registryTLS)
            }
        }

        let config = directory.appendingPathComponent("onebzd.toml")
        try """
        [chain]
        rpc_urls = ["http://127.0.0.1:\(proxyPort)"]
        contract = "\(devnet.contractAddress)"
        lookup_contract = "\(devnet.lookupAddress)"
        deploy_block = \(devnet.deployBlock)
        poll_interval = "\(pollMilliseconds)ms"
        timeout = "1s"

        [registry]
        url = "\(registryURL ?? "\(registryTLS == nil ? "http" : "https")://127.0.0.1:\(registryPort)")"
        poll_interval = "\(pollMilliseconds)ms"
        timeout = "1s"
        \(registryConfig)

        [cache]
        max_stale = "\(maxStale)"

        [ttl]
        positive = \(positiveTTL)
        \(extraConfig)
        """.write(to: config, atomically: true, encoding: .utf8)
        httpPort = FreePort.next()
        onebzd = try await OnebzdServer(
            label: label + "-onebzd", extraArguments: ["--config", config.path, "--http", "127.0.0.1:\(httpPort)"] + onebzdArguments)
        if waitForReady { try await waitUntilReady() }
    }

    /// Signs a record with the sample's key (as `onebz publish` does) and publishes it
    /// (over HTTPS trusting the registry's certificate when it serves HTTPS).
    func publishRecord(
        for sample: Devnet.SampleNode, ipv4: [String], ipv6: [String], seq: UInt64, services: [NodeService] = []
    ) async throws {
        try await Self.publish(
            for: sample, ipv4: ipv4, ipv6: ipv6, seq: seq, services: services, registry: registryBaseURL,
            certificate: registryCertificate)
    }

    private static func publish(
        for sample: Devnet.SampleNode, ipv4: [String], ipv6: [String], seq: UInt64, services: [NodeService] = [],
        registry: String, certificate: TestCertificate?
    ) async throws {
        let key = try Ed25519PrivateKey(pem: String(contentsOfFile: sample.privateKeyPath, encoding: .utf8))
        let record = try NodeMetadata.signed(by: key, ipv4: ipv4, ipv6: ipv6, seq: seq, services: services)
        let tls = try certificate.map { try RegistryTLS(caFile: $0.certificatePath, pin: nil) }
        let client = RegistryClient(baseURL: registry, timeout: .seconds(5), tls: tls)
        do { _ = try await client.publish(record) } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    /// onebzd answers dynamic names only once its follower has synced: wait for that,
    /// and (materialising, the default) for the zone to go live, so the materialiser's
    /// own lookups are over before a test counts eth_calls.
    func waitUntilReady() async throws {
        try await onebzd.process.waitUntil(timeout: .seconds(60)) {
            (try? self.onebzd.dig(["shashi.1bz", "TXT"]))?.status == "NOERROR"
                && (!self.materializing || (try? self.get("/metrics").body.contains("onebz_zone_serial")) == true)
        }
    }

    func dig(_ arguments: [String]) throws -> DigResult { try onebzd.dig(arguments) }

    /// GET on the gateway with curl: (status, body).
    func get(_ path: String) throws -> (status: Int, body: String) {
        let r = try Command.run("curl", ["-s", "-S", "-o", "-", "-w", "\n%{http_code}", gatewayURL + path])
        guard let nl = r.stdout.lastIndex(of: "\n"), let status = Int(r.stdout[r.stdout.index(after: nl)...]) else {
            throw TestProcessError("curl \(path) failed: \(r.stderr)")
        }
        return (status, String(r.stdout[..<nl]))
    }

    /// The value of a counter in onebzd's /metrics, summed over its labels (0 when absent).
    func metric(_ name: String) throws -> Double {
        try get("/metrics").body.split(separator: "\n")
            .filter { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }
            .reduce(0) { $0 + (Double($1.split(separator: " ").last ?? "0") ?? 0) }
    }

    /// JSON-RPC method counts seen by the proxy (what onebzd asked the chain).
    func rpcCount(_ method: String) throws -> Int {
        try Self.rpcCount(method, stats: statsPath)
    }

    func stopProxy() { proxy.stop() }

    /// A second counting proxy in front of the devnet, for a process of its own (an
    /// `onebzd zone dump` beside the running onebzd): its counts are that process's
    /// alone. The caller stops it.
    func separateProxy(_ label: String) async throws -> (process: ManagedProcess, url: String, stats: String) {
        let port = FreePort.next()
        let stats = directory.appendingPathComponent("rpc-stats-\(label).json").path
        let process = try Self.startProxy(
            "rpc-proxy-\(label)", port: port, devnet: devnet, stats: stats, directory: directory)
        try await process.waitForTCP(port: port)
        return (process, "http://127.0.0.1:\(port)", stats)
    }

    /// JSON-RPC method counts in a proxy's stats file (0 when the method was never asked).
    static func rpcCount(_ method: String, stats: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: stats) else { return 0 }
        let counts = try JSONDecoder().decode([String: Int].self, from: Data(contentsOf: URL(fileURLWithPath: stats)))
        return counts[method] ?? 0
    }

    func restartProxy() async throws {
        proxy.stop()
        proxy = try Self.startProxy("rpc-proxy-1", port: proxyPort, devnet: devnet, stats: statsPath, directory: directory)
        try await proxy.waitForTCP(port: proxyPort)
    }

    /// tools/faultproxy.py in pass mode on `port`, in front of the devnet, counting
    /// JSON-RPC methods into `stats`.
    private static func startProxy(_ name: String, port: Int, devnet: Devnet, stats: String, directory: URL) throws
        -> ManagedProcess
    {
        try ManagedProcess(
            name: name, executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [
                "python3", Repo.root.appendingPathComponent("tools/faultproxy.py").path, "--listen", "127.0.0.1:\(port)",
                "--target", "127.0.0.1:\(devnet.port)", "--stats", stats,
            ],
            logDirectory: directory)
    }

    /// A fresh node identity registered on chain under `name`; returns its node id.
    @discardableResult
    func registerNewNode(_ name: String, account: Int) async throws -> (NodeID, Ed25519PrivateKey) {
        let key = Ed25519PrivateKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let id = key.publicKey.nodeID
        let receipt = try await devnet.registerNode(
            nodeHash: NodeHash(nodeID: id).hex, name: name, from: devnet.info.accounts[account])
        guard receipt.succeeded else { throw TestProcessError("registerNode(\(name)) reverted") }
        return (id, key)
    }

    /// Polls `check` until it holds; returns how long that took (to within the 50 ms
    /// between polls: most checks start a dig, and a dig every 20 ms kept a core busy).
    func eventually(
        timeout: Duration = .seconds(10), _ check: () throws -> Bool
    ) async throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < timeout {
            if (try? check()) == true { return clock.now - start }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestProcessError("condition not met within \(timeout)")
    }

    deinit {
        registry.stop()
        proxy.stop()
        devnet.stop()
    }
}

extension DigResult {
    /// TXT attribute values by key, from `key=value` strings in the answer.
    var txt: [String: String] {
        var out: [String: String] = [:]
        for line in answer where line.contains(" TXT ") {
            guard let open = line.firstIndex(of: "\""), let close = line.lastIndex(of: "\""), open < close else { continue }
            let text = line[line.index(after: open)..<close]
            guard let eq = text.firstIndex(of: "=") else { continue }
            out[String(text[..<eq])] = String(text[text.index(after: eq)...])
        }
        return out
    }

    /// The RDATA of answer records of `type` (last field of each line).
    func rdata(_ type: String) -> [String] {
        answer.filter { $0.split(separator: " ").dropFirst(3).first.map(String.init) == type }
            .compactMap { $0.split(separator: " ").last.map(String.init) }
    }
}
