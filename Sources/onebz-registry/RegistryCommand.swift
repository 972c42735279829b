import ArgumentParser
import ChainReader
import Foundation
import Hummingbird
import Logging
import NodeRegistry

@main
struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onebz-registry",
        abstract: "The 1bz off-chain registry: signed node metadata, heartbeats, trust scores (docs/registry.md).")

    @Option(help: "SQLite database file (created if missing; WAL mode).")
    var db: String

    @Option(help: "HTTP listen address host:port.")
    var listen: String = "127.0.0.1:8080"

    @Option(help: "Chain JSON-RPC URL.")
    var rpc: String

    @Option(help: "BizNodeRegistry contract address (0x...).")
    var contract: String

    @Option(name: .customLong("deploy-block"), help: "Block the contract was deployed in (event scan start).")
    var deployBlock: UInt64 = 0

    @Option(help: "Blocks to wait before believing an event.")
    var confirmations: UInt64 = 0

    @Option(name: .customLong("poll-interval"), help: "Seconds between event polls (eth_getLogs).")
    var pollInterval: Double = 2

    @Option(name: .customLong("sweep-interval"), help: "Seconds between full re-reads of every stored node.")
    var sweepInterval: Double = 60

    @Option(name: .customLong("max-body"), help: "Largest accepted request body in bytes.")
    var maxBody: Int = 16 * 1024

    func validate() throws {
        guard parseListen() != nil else { throw ValidationError("invalid --listen \(listen): expected host:port") }
        guard contract.hasPrefix("0x"), contract.count == 42 else {
            throw ValidationError("invalid --contract \(contract): expected 0x + 40 hex digits")
        }
        guard pollInterval > 0 else { throw ValidationError("invalid --poll-interval: must be > 0") }
        guard sweepInterval > 0 else { throw ValidationError("invalid --sweep-interval: must be > 0") }
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
        let store: Store
        do { store = try Store(path: db) } catch { throw ValidationError("cannot open database \(db): \(error)") }
        let registry = try makeRegistryBinding()
        let chain = ContractNodeSource(registry: registry)
        let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
        let sync = ChainSync(
            store: store, chain: chain, sweepInterval: .milliseconds(Int(sweepInterval * 1000)), logger: logger,
            clock: clock)
        var followerConfig = EventFollower.Configuration(startBlock: deployBlock)
        followerConfig.confirmations = confirmations
        followerConfig.pollInterval = .milliseconds(Int(pollInterval * 1000))
        let follower = EventFollower(registry: registry, configuration: followerConfig, logger: logger) { event in
            await sync.handle(event)
        }
        let routes = RegistryRoutes(store: store, chain: chain, maxBodyBytes: maxBody, clock: clock)
        let (host, port) = parseListen()!
        let app = Application(
            router: routes.build(),
            configuration: .init(address: .hostname(host, port: port), serverName: "onebz-registry"),
            services: [sync, follower],
            logger: logger)
        try await app.runService()
    }
}
