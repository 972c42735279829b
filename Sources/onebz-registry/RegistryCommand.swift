import ArgumentParser
import ChainReader
import Foundation
import HTTPServerGuard
import Hummingbird
import HummingbirdCore
import Logging
import NodeRegistry

/// `onebz-registry serve` (the default subcommand: `onebz-registry --db ...` runs it).
struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the registry's HTTP API and follow the chain (the default).")

    @Option(help: "SQLite database file (created if missing; WAL mode).")
    var db: String

    @Option(help: "HTTP listen address host:port.")
    var listen: String = "127.0.0.1:8080"

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain (leaf first): serve HTTPS (needs --tls-key).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(help: "Chain JSON-RPC URL; repeat for failover; env:NAME or @FILE keeps an API key out of ps.")
    var rpc: [String] = []

    @Option(
        help: ArgumentHelp(
            "Chain profile: polygon, amoy, ethereum or devnet (chain id checked before an endpoint's first use, "
                + "follow finalized, poll interval, log range, request budget, hedging; each flag below overrides).",
            valueName: "name"))
    var network: String?

    @Option(
        name: .customLong("requests-per-second"),
        help:
            "Requests per second per endpoint, retries included (0: unlimited; default: the profile's, else unlimited).")
    var requestsPerSecond: Double?

    @Option(
        name: .customLong("hedge-after"), help: "Seconds before a slow read also goes to the next endpoint (0: never).")
    var hedgeAfter: Double?

    @Option(
        name: .customLong("max-log-range"), help: "Blocks per eth_getLogs at most (default: the profile's, else 1000).")
    var maxLogRange: UInt64?

    @Option(help: "BizNodeRegistry contract address (0x...).")
    var contract: String

    @Option(name: .customLong("deploy-block"), help: "Block the contract was deployed in (event scan start).")
    var deployBlock: UInt64 = 0

    @Option(
        help: "Blocks to wait before believing an event (follows latest; default 0, or the profile's finalized tag).")
    var confirmations: UInt64?

    @Option(
        name: .customLong("poll-interval"),
        help: "Seconds between event polls (eth_getLogs; default: the profile's, else 2).")
    var pollInterval: Double?

    @Option(name: .customLong("sweep-interval"), help: "Seconds between full re-reads of every stored node.")
    var sweepInterval: Double = 60

    @Option(name: .customLong("max-body"), help: "Largest accepted request body in bytes.")
    var maxBody: Int = 16 * 1024

    @Option(name: .customLong("changes-retain"), help: "Rows the change feed keeps; older cursors are told to resync.")
    var changesRetain: Int = 100_000

    @Option(
        name: .customLong("idle-timeout"),
        help: "Seconds a connection may take to send complete request headers (and stay idle between requests).")
    var idleTimeout: Double = 15

    @Option(name: .customLong("body-timeout"), help: "Seconds a request body may take after its headers.")
    var bodyTimeout: Double = 10

    @Option(name: .customLong("max-connections"), help: "Connections open at once; more are closed at once.")
    var maxConnections: Int = 1024

    @Option(name: .customLong("max-connections-per-client"), help: "Connections open at once per IPv4 address or IPv6 /64.")
    var maxConnectionsPerClient: Int = 32

    var limits: HTTPServerLimits {
        var limits = HTTPServerLimits()
        limits.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
        limits.bodyTimeout = .milliseconds(Int64(bodyTimeout * 1000))
        limits.maxConnections = maxConnections
        limits.maxConnectionsPerClient = maxConnectionsPerClient
        return limits
    }

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        guard parseListen() != nil else { throw ValidationError("invalid --listen \(listen): expected host:port") }
        guard contract.hasPrefix("0x"), contract.count == 42 else {
            throw ValidationError("invalid --contract \(contract): expected 0x + 40 hex digits")
        }
        guard (pollInterval ?? 1) > 0 else { throw ValidationError("invalid --poll-interval: must be > 0") }
        if network != nil { _ = try chainProfile() }
        guard sweepInterval > 0 else { throw ValidationError("invalid --sweep-interval: must be > 0") }
        guard changesRetain >= 1 else { throw ValidationError("invalid --changes-retain: must be >= 1") }
        for (name, value) in [("--idle-timeout", idleTimeout), ("--body-timeout", bodyTimeout)] where !(value > 0 && value <= 86_400) {
            throw ValidationError("invalid \(name) \(value): must be > 0 seconds (at most a day)")
        }
        for (name, value) in [("--max-connections", maxConnections), ("--max-connections-per-client", maxConnectionsPerClient)]
        where value < 1 {
            throw ValidationError("invalid \(name) \(value): must be >= 1")
        }
    }

    func parseListen() -> (String, Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        return (String(listen[..<colon]), port)
    }

    func run() async throws {
        var logger = Logger(label: "onebz-registry")
        logger.logLevel = .info
        let server = try serverBuilder()
        let store: Store
        do { store = try Store(path: db, changesRetain: changesRetain) } catch { throw ValidationError("cannot open database \(db): \(error)") }
        let registry = try makeRegistryBinding()
        let chain = ContractNodeSource(registry: registry)
        let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
        let sync = ChainSync(
            store: store, chain: chain, sweepInterval: .milliseconds(Int(sweepInterval * 1000)), logger: logger,
            clock: clock)
        var followerConfig = EventFollower.Configuration(startBlock: deployBlock)
        let profile = try chainProfile()
        followerConfig.useFinalizedTag = confirmations == nil && (profile?.useFinalizedTag ?? false)
        followerConfig.confirmations = confirmations ?? profile?.confirmations ?? 0
        followerConfig.pollInterval =
            pollInterval.map { .milliseconds(Int($0 * 1000)) } ?? profile?.pollInterval ?? .seconds(2)
        followerConfig.maxRange = maxLogRange ?? profile?.maxLogRange ?? 1000
        let follower = EventFollower(registry: registry, configuration: followerConfig, logger: logger) { event in
            await sync.handle(event)
        }
        let routes = RegistryRoutes(store: store, chain: chain, maxBodyBytes: maxBody, clock: clock)
        let (host, port) = parseListen()!
        let app = Application(
            router: routes.build(),
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "onebz-registry"),
            services: [sync, follower],
            logger: logger)
        logger.info("listening", metadata: ["address": "\(listen)", "scheme": "\(tlsCert == nil ? "http" : "https")"])
        try await app.runService()
    }

    /// HTTP/1.1, or with --tls-cert/--tls-key HTTPS (HTTP/2 and HTTP/1.1 by ALPN), as the
    /// gateway serves it; the connection guard's limits either way. A TLS file that
    /// cannot be used stops the registry here, named.
    func serverBuilder() throws -> HTTPServerBuilder {
        let connectionGuard = HTTPConnectionGuard(limits: limits)
        guard let tlsCert, let tlsKey else { return .guardedHTTP1(connectionGuard) }
        do throws(TLSFilesError) {
            let files = TLSFiles(certificateChain: tlsCert, privateKey: tlsKey)
            return .guardedHTTP2Upgrade(tlsConfiguration: try files.serverConfiguration(), connectionGuard)
        } catch {
            throw ValidationError("invalid \(error.file == tlsKey ? "--tls-key" : "--tls-cert"): \(error)")
        }
    }
}
