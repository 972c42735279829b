import Foundation
import NodeRegistry
import TestSupport

/// The whole product with fault-injecting proxies (tools/faultproxy.py) in front
/// of every upstream: `rpc[0]`, `rpc[1]`... before the devnet (onebzd's `chain.rpc_urls`
/// in that order, so `rpc[0]` is the preferred endpoint) and `registryProxy` before the
/// real onebz-registry. Short TTLs (positive and stale 1 s) so that a fault is seen by
/// the next query, and stale answers are told apart by their TTL.
///
/// `materialize = false` by default: these suites exercise the RPC miss path (the
/// fallback mode), where an unknown name costs a lookup and a failing upstream makes it
/// SERVFAIL. With the materialised name set an unregistered name is NXDOMAIN from
/// memory whatever the upstreams do (MaterializedZoneIntegrationTests).
final class FaultStack: Sendable {
    let directory: URL
    let devnet: Devnet
    let registry: ManagedProcess
    let rpc: [FaultProxy]
    let registryProxy: FaultProxy
    let onebzd: OnebzdServer

    /// - Parameter chainSettings: more `[chain]` lines (e.g. proof mode's `verify`).
    /// - Parameter budgets: each endpoint's own `requests_per_second` (nil: none given).
    /// - Parameter downAtStart: proxies stopped before onebzd starts (`restart()` them).
    /// - Parameter sections: more sections at the end of the file, given the stack's directory.
    /// - Parameter positiveTTL: `[ttl] positive` (1 s: fault tests see every lookup go upstream).
    /// - Parameter shashiServices: the services shashi.1bz's record declares (TLSA, HTTPS).
    init(
        label: String, endpoints: Int = 1, chainTimeout: String = "1s", registryTimeout: String = "1s",
        chainSettings: String = "", httpPort: Int? = nil, materialize: Bool = false, profiles: [String?] = [],
        budgets: [Double?] = [], downAtStart: Set<Int> = [], positiveTTL: Int = 1,
        shashiServices: [NodeService] = [], sections: (URL) -> String = { _ in "" }
    ) async throws {
        directory = try Repo.scratchDirectory(label)
        devnet = try await Devnet.start(label: label + "-devnet")
        var rpc: [FaultProxy] = []
        for index in 0..<endpoints {
            rpc.append(
                try await FaultProxy(
                    name: "rpc\(index)", targetPort: devnet.port, directory: directory,
                    profile: index < profiles.count ? profiles[index] : nil))
        }
        self.rpc = rpc

        let registryPort = FreePort.next()
        registry = try RegistryServer.start(
            devnet: devnet, port: registryPort, database: directory.appendingPathComponent("registry.sqlite").path,
            logDirectory: directory)
        try await registry.waitForTCP(port: registryPort)
        for name in ["shashi.1bz", "acme.1bz"] {
            let (v4, v6) = DynamicStack.addresses(of: name)
            let key = try Ed25519PrivateKey(
                pem: String(contentsOfFile: devnet.sample(name)!.privateKeyPath, encoding: .utf8))
            let services = name == "shashi.1bz" ? shashiServices : []
            let record = try NodeMetadata.signed(by: key, ipv4: v4, ipv6: v6, seq: 1, services: services)
            _ = try await RegistryClient(baseURL: "http://127.0.0.1:\(registryPort)", timeout: .seconds(5)).publish(record)
        }
        registryProxy = try await FaultProxy(name: "registry-proxy", targetPort: registryPort, directory: directory)
        for index in downAtStart { rpc[index].stop() }
        let urls = rpc.enumerated().map { index, proxy in
            guard index < budgets.count, let budget = budgets[index] else { return "\"\(proxy.url)\"" }
            return "{ url = \"\(proxy.url)\", requests_per_second = \(budget) }"
        }

        let config = directory.appendingPathComponent("onebzd.toml")
        try """
        [chain]
        rpc_urls = [\(urls.joined(separator: ", "))]
        contract = "\(devnet.contractAddress)"
        lookup_contract = "\(devnet.lookupAddress)"
        deploy_block = \(devnet.deployBlock)
        poll_interval = "200ms"
        timeout = "\(chainTimeout)"
        materialize = \(materialize)
        \(chainSettings)

        [registry]
        url = "\(registryProxy.url)"
        poll_interval = "200ms"
        timeout = "\(registryTimeout)"

        [ttl]
        positive = \(positiveTTL)
        stale = 1

        \(sections(directory))
        """.write(to: config, atomically: true, encoding: .utf8)
        onebzd = try await OnebzdServer(
            label: label + "-onebzd",
            extraArguments: ["--config", config.path] + (httpPort.map { ["--http", "127.0.0.1:\($0)"] } ?? []))
        try await onebzd.process.waitUntil(timeout: .seconds(60)) {
            (try? self.dig(["shashi.1bz", "TXT"]))?.status == "NOERROR"
        }
    }

    /// dig with a timeout longer than onebzd's worst case for a failing upstream (every
    /// attempt timing out plus backoff): the test wants onebzd's answer, not dig's timeout.
    func dig(_ arguments: [String]) throws -> DigResult {
        let result = try Command.run(
            "dig",
            ["@127.0.0.1", "-p", "\(onebzd.port)", "+norec", "+time=15", "+tries=1", "+nocmd", "+nostats"] + arguments)
        return DigResult(output: result.stdout)
    }

    /// onebzd's log (stderr) since `offset` characters.
    func log(since offset: Int = 0) -> Substring {
        let text = onebzd.process.stderr()
        return text.dropFirst(min(offset, text.count))
    }

    var logLength: Int { onebzd.process.stderr().count }

    func eventually(timeout: Duration = .seconds(15), _ check: () throws -> Bool) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < timeout {
            if (try? check()) == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestProcessError("condition not met within \(timeout)")
    }

    deinit {
        registry.stop()
        devnet.stop()
    }
}
