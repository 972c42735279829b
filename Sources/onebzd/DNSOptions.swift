import ArgumentParser
import ChainReader
import DNSEngine
import Foundation
import TOMLConfiguration

/// Flags of the DNS service. Each overrides the config file's key of the same meaning;
/// unset flags leave the file (or the default) in force.
struct DNSOptions: ParsableArguments {
    @Option(help: "Zone file (RFC 1035 master format) served at the apex. [server.zone, default zones/1bz.zone]")
    var zone: String?

    @Option(help: "Apex of the zone; $ORIGIN in the file must agree.")
    var origin: String = "1bz."

    @Option(
        help: ArgumentHelp(
            "Address to serve UDP and TCP on, HOST:PORT or [IPv6]:PORT. Repeat for several. [server.listen, default 0.0.0.0:53]",
            valueName: "host:port"))
    var listen: [String] = []

    @Option(help: "Answer for CH TXT id.server / hostname.bind. [server.identity, default onebzd]")
    var identity: String?

    @Option(help: "Answer for CH TXT version.bind / version.server. [server.version, default onebzd]")
    var versionString: String?

    @Flag(help: "Refuse CH TXT id.server / version.bind queries instead of answering them. [server.refuse_chaos]")
    var noChaos = false

    @Option(help: "Seconds a TCP connection may stay idle before the server closes it. [server.tcp_idle_timeout, default 10]")
    var tcpIdleTimeout: Int?

    @Option(help: "Most TCP connections open at once; further ones are closed immediately. [server.tcp_max_connections, default 1024]")
    var tcpMaxConnections: Int?

    @Option(
        help:
            "Most TCP connections one client (IPv4 address, IPv6 /64) may hold. [server.tcp_max_connections_per_client, default 64]"
    )
    var tcpMaxConnectionsPerClient: Int?

    @Option(help: "Event loop threads (default: one per core).")
    var threads: Int?

    @Flag(help: "Sign every answer for DO=1 queries (DNSSEC, docs/dnssec.md). [dnssec.enabled]")
    var dnssec = false

    @Option(help: "Directory of BIND-format DNSSEC key files; implies --dnssec. [dnssec.key_dir, default keys]")
    var dnssecKeyDir: String?

    @Option(
        help: "Algorithm of a key generated when the key directory has none: ecdsap256sha256 or ed25519. [dnssec.algorithm]")
    var dnssecAlgorithm: String?

    @Option(help: "How DO=1 negatives are proven: compact (RFC 9824) or nsec3 (the pre-signed chain). [dnssec.denial]")
    var dnssecDenial: String?

    func validate() throws {
        if let tcpIdleTimeout, tcpIdleTimeout <= 0 { throw ValidationError("--tcp-idle-timeout must be positive") }
        if let tcpMaxConnections, tcpMaxConnections <= 0 {
            throw ValidationError("--tcp-max-connections must be positive")
        }
        if let tcpMaxConnectionsPerClient, tcpMaxConnectionsPerClient <= 0 {
            throw ValidationError("--tcp-max-connections-per-client must be positive")
        }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
    }

    /// Applies the flags that were given over `configuration`.
    func apply(to configuration: inout ServerConfiguration) throws(ConfigurationError) {
        if let zone { configuration.server.zoneFile = zone }
        if !listen.isEmpty {
            var addresses: [HostPort] = []
            for text in listen {
                do { addresses.append(try HostPort(parsing: text)) } catch {
                    throw ConfigurationError(key: "--listen", error.problem)
                }
            }
            configuration.server.listen = addresses
        }
        if let identity { configuration.server.identity = identity }
        if let versionString { configuration.server.version = versionString }
        if noChaos { configuration.server.refuseChaos = true }
        if let tcpIdleTimeout { configuration.server.tcpIdleTimeout = .seconds(tcpIdleTimeout) }
        if let tcpMaxConnections { configuration.server.tcpMaxConnections = tcpMaxConnections }
        if let tcpMaxConnectionsPerClient { configuration.server.tcpMaxConnectionsPerClient = tcpMaxConnectionsPerClient }
        if dnssec { configuration.dnssec.enabled = true }
        if let dnssecKeyDir {
            configuration.dnssec.enabled = true
            configuration.dnssec.keyDir = dnssecKeyDir
        }
        if let dnssecAlgorithm {
            configuration.dnssec.algorithm = try ServerConfiguration.algorithm(dnssecAlgorithm, key: "--dnssec-algorithm")
        }
        if let dnssecDenial {
            guard let mode = ServerConfiguration.DNSSEC.Denial(rawValue: dnssecDenial) else {
                throw ConfigurationError(key: "--dnssec-denial", "must be \"compact\" or \"nsec3\", not \"\(dnssecDenial)\"")
            }
            guard mode == .compact || configuration.chain?.materialize != false else {
                throw ConfigurationError(key: "--dnssec-denial", "\"nsec3\" needs [chain] materialize = true")
            }
            configuration.dnssec.denial = mode
        }
    }
}

/// Flags for the chain and the registry (dynamic names). Without `--rpc-url` (or a
/// `[chain]` table) only the static zone is served.
struct UpstreamOptions: ParsableArguments {
    @Option(
        name: .customLong("rpc-url"),
        help: "Chain JSON-RPC endpoint; repeat for failover; env:NAME or @FILE keeps an API key out of ps. [chain.rpc_urls]")
    var rpcURLs: [String] = []

    @Option(help: "BizNodeRegistry contract address, 0x + 40 hex. [chain.contract]")
    var contract: String?

    @Option(help: "Read-only lookup helper contract (name -> node in one call). [chain.lookup_contract]")
    var lookupContract: String?

    @Option(help: "Block the contract was deployed in; the follower starts there. [chain.deploy_block]")
    var deployBlock: UInt64?

    @Option(help: "Blocks to wait before believing a block. [chain.confirmations]")
    var confirmations: UInt64?

    @Option(help: "How chain reads are believed: call (trust the endpoint) or proof (storage proofs). [chain.verify]")
    var chainVerify: String?

    @Option(help: "Endpoints that must agree on a block in proof mode (default: a majority). [chain.quorum]")
    var quorum: Int?

    @Option(help: "The contract's storage layout for proofs: solidity or vyper. [chain.storage_layout]")
    var storageLayout: String?

    @Option(
        help: ArgumentHelp(
            "Keep every registered name in memory (true) or ask the chain on every miss (false). [chain.materialize]",
            valueName: "bool"))
    var materialize: Bool?

    @Option(help: "Registry base URL, e.g. http://127.0.0.1:8080. [registry.url]")
    var registryURL: String?

    func apply(to configuration: inout ServerConfiguration) throws(ConfigurationError) {
        if !rpcURLs.isEmpty || contract != nil || configuration.chain != nil {
            let urls = try rpcURLs.map { url throws(ConfigurationError) in
                do { return try RPCURLArgument.resolve(url, flag: "--rpc-url") } catch {
                    throw ConfigurationError(key: "--rpc-url", "\(error)")
                }
            }
            let flagged = try Self.fresh(urls, contract)
            guard let base = configuration.chain ?? flagged else {
                throw ConfigurationError(
                    key: urls.isEmpty ? "--rpc-url" : "--contract", "is required to serve chain names (or a [chain] table)")
            }
            var chain = base
            if !urls.isEmpty { chain.rpcURLs = urls }
            if let contract { chain.contract = try ServerConfiguration.address(contract, key: "--contract") }
            if let lookupContract {
                chain.lookupContract = try ServerConfiguration.address(lookupContract, key: "--lookup-contract")
            }
            if let deployBlock { chain.deployBlock = deployBlock }
            if let confirmations { chain.confirmations = confirmations }
            if let materialize { chain.materialize = materialize }
            try applyVerification(to: &chain)
            configuration.chain = chain
        }
        if let registryURL {
            let url = try ServerConfiguration.httpURL(registryURL, key: "--registry-url")
            var registry = configuration.registry ?? ServerConfiguration.Registry(url: url)
            registry.url = url
            configuration.registry = registry
        }
    }

    private func applyVerification(to chain: inout ServerConfiguration.Chain) throws(ConfigurationError) {
        if let chainVerify {
            guard let mode = ServerConfiguration.Chain.VerifyMode(rawValue: chainVerify) else {
                throw ConfigurationError(key: "--chain-verify", "must be call or proof, not \(chainVerify)")
            }
            chain.verify = mode
        }
        if let quorum {
            guard (1...chain.rpcURLs.count).contains(quorum) else {
                throw ConfigurationError(key: "--quorum", "must be 1...\(chain.rpcURLs.count) (the number of RPC URLs)")
            }
            chain.quorum = quorum
        }
        if let storageLayout {
            guard let layout = ServerConfiguration.Chain.StorageLayoutName(rawValue: storageLayout) else {
                throw ConfigurationError(key: "--storage-layout", "must be solidity or vyper, not \(storageLayout)")
            }
            chain.storageLayout = layout
        }
        if chain.verify == .proof, chain.storageLayout == nil {
            throw ConfigurationError(key: "--storage-layout", "is required in proof mode (solidity or vyper)")
        }
    }

    /// A chain table from flags alone (both --rpc-url and --contract given).
    private static func fresh(_ urls: [URL], _ contract: String?) throws(ConfigurationError) -> ServerConfiguration.Chain? {
        guard !urls.isEmpty, let contract else { return nil }
        return ServerConfiguration.Chain(
            rpcURLs: urls, contract: try ServerConfiguration.address(contract, key: "--contract"))
    }
}
