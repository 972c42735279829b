import ArgumentParser
import CommandLineLogging
import DNSEngine
import DNSSEC
import DNSTransport
import DNSWire
import Foundation
import Logging
import NIOCore
import NIOPosix
import NodeRegistry
import OneBZResolver
import ServiceLifecycle
import TOMLConfiguration
import ZoneCache

#if canImport(Glibc)
    import Glibc
#endif

/// `onebzd`: the authoritative DNS server for the 1bz TLD.
@main
struct OnebzdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onebzd",
        abstract: "Authoritative DNS server for the .1bz TLD.",
        discussion: """
            Serves the static zone file over UDP and TCP on every --listen address and, with a
            chain configured, every name registered on the BizNodeRegistry contract, checked
            against the registry's signed metadata; with --http also the HTTP gateway (DoH,
            /resolve JSON, the lookup page, /metrics, /healthz, /readyz).
              onebzd --zone zones/1bz.zone --listen 127.0.0.1:5353 --http 127.0.0.1:8053
              onebzd --config onebzd.toml
            Flags override the config file (docs/configuration.md). Stops gracefully on SIGINT
            or SIGTERM.
            DNSSEC (docs/dnssec.md): with --dnssec-key-dir DIR (or [dnssec] enabled = true)
            every answer to a DO=1 query is signed; keys are managed with
            `onebzd dnssec keygen|ds|status|rollover|ds-seen|speed`.
            """,
        subcommands: [DNSSECCommand.self, ZoneCommand.self, CheckConfigCommand.self])

    @Option(help: "TOML configuration file (docs/configuration.md); flags override it.")
    var config: String?

    @OptionGroup(title: "DNS")
    var dns: DNSOptions

    @OptionGroup(title: "Chain and registry")
    var upstreams: UpstreamOptions

    @OptionGroup(title: "HTTP gateway")
    var http: HTTPOptions

    @OptionGroup(title: "Zone transfers")
    var transfer: TransferOptions

    @OptionGroup(title: "DNS over TLS and XoT")
    var dot: DoTOptions

    @OptionGroup var log: LogOptions

    mutating func run() async throws {
        let arenas = FreedHeap.limitArenas()
        let logger = log.bootstrap(label: "onebzd")
        logger.debug("memory: malloc arenas", metadata: ["max": "\(arenas.map { "\($0)" } ?? "MALLOC_ARENA_MAX")"])
        let metricsRegistry = Self.bootstrapMetrics()

        let settings: ServerConfiguration
        let zone: Zone
        let listen: [SocketAddress]
        var signing: ZoneSigning? = nil
        var transferSetup: TransferSetup? = nil
        var dotConfiguration: DoTConfiguration? = nil
        var servedZones: [ServedZone] = []
        do {
            settings = try loadConfiguration()
            let updates = settings.zones.contains { !$0.updateKeys.isEmpty }
            if settings.transfer.isEnabled || !settings.transfer.notify.isEmpty || updates {
                transferSetup = try TransferSetup(settings.transfer)
            }
            listen = try settings.server.listen.map { address throws(ConfigurationError) in
                do { return try SocketAddress(ipAddress: address.host, port: address.port) } catch {
                    throw ConfigurationError(key: "server.listen", "\(address) is not IPv4:PORT or [IPv6]:PORT")
                }
            }
            dotConfiguration = try Self.dotConfiguration(settings)
            zone = try Zone(file: settings.server.zoneFile, apex: try originName())
            if settings.dnssec.enabled {
                signing = try ZoneSigning(settings: settings.dnssec, zone: zone.apex, logger: logger)
            }
            servedZones = try ServedZoneLoader.load(
                settings, mainApex: zone.apex, keys: transferSetup?.keys, now: ZoneSigning.now())
        } catch {
            // Configuration and zone errors name the key or file:line; exit non-zero
            // without a stack of noise.
            printError("onebzd: error: \(error)")
            throw ExitCode(1)
        }
        logger.info(
            "zone loaded",
            metadata: ["file": "\(settings.server.zoneFile)", "apex": "\(zone.apex)", "nodes": "\(zone.nodes.count)"])

        if let signer = signing?.signer {
            logger.info(
                "dnssec: signing",
                metadata: [
                    "keys": "\(signer.keys.map(\.keyTag))", "algorithms": "\(signer.activeKeys.map(\.algorithm.mnemonic))",
                ])
        }
        let recordSequence: RecordSequence
        do {
            if let path = settings.registry?.seqFile {
                let started = ContinuousClock.now
                recordSequence = try RecordSequence(path: path)
                logger.info(
                    "record seq floors loaded",
                    metadata: [
                        "file": "\(path)", "nodes": "\(recordSequence.count)",
                        "ms": "\(Int((ContinuousClock.now - started) / .milliseconds(1)))",
                    ])
            } else {
                recordSequence = RecordSequence()
            }
        } catch {
            printError("onebzd: error: \(ConfigurationError(key: "registry.seq_file", "\(error)"))")
            throw ExitCode(1)
        }
        let registryTLS: RegistryTLS?
        do { registryTLS = try settings.registry?.tls() } catch {
            printError("onebzd: error: \(error)")
            throw ExitCode(1)
        }
        if let chain = settings.chain {
            do { try await ChainIDCheck.run(chain, logger: logger) } catch {
                printError("onebzd: error: \(error)")
                throw ExitCode(1)
            }
        }
        for served in servedZones {
            logger.info(
                "zone loaded",
                metadata: [
                    "apex": "\(served.origin)", "nodes": "\(served.zone.nodes.count)",
                    "signed": "\(served.prepared.signed != nil)", "update_keys": "\(served.updateKeys.map(\.description))",
                ])
        }
        let runtime = Runtime(
            settings: settings, zone: zone, signing: signing, servedZones: servedZones, recordSequence: recordSequence,
            registryTLS: registryTLS, logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: dns.threads ?? System.coreCount)
        let readiness = ReadinessFlag()
        var serverConfiguration = DNSServer.Configuration(
            listen: listen, tcpIdleTimeout: .nanoseconds(Int64(settings.server.tcpIdleTimeout.nanoseconds)),
            tcpMaxConnections: settings.server.tcpMaxConnections,
            tcpMaxConnectionsPerClient: settings.server.tcpMaxConnectionsPerClient)
        serverConfiguration.rateLimit = settings.server.rateLimit
        let transfers = try Self.transferServices(
            transferSetup, settings: settings, runtime: runtime, zone: zone, servedZones: servedZones, group: group,
            logger: logger)
        serverConfiguration.transfers = transfers.responder
        serverConfiguration.dot = dotConfiguration
        let server = DNSServer(
            engine: runtime.engine, configuration: serverConfiguration, group: group, logger: logger,
            onListening: { [notifier = transfers.notifier] _ in
                readiness.markReady()
                notifier?.serverListening()
            })
        var serviceList: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: server)]
        serviceList += runtime.services.map { .init(service: $0) }
        if let notifier = transfers.notifier { serviceList.append(.init(service: notifier)) }
        let signedZones = servedZones.filter { $0.prepared.signed != nil }
        if !signedZones.isEmpty {
            serviceList.append(
                .init(
                    service: ServedZoneSigningService(
                        zones: signedZones, checkInterval: settings.dnssec.checkInterval, logger: logger)))
        }
        if let dotConfiguration, let dotSettings = settings.dot {
            serviceList.append(
                .init(
                    service: DoTCertificateReloader(
                        settings: dotSettings, clientCertificates: dotConfiguration.requestClientCertificate,
                        context: dotConfiguration.context, logger: logger)))
        }
        do {
            // Ready once the sockets are bound and, with a chain, the follower has synced
            // (or a restored zone snapshot answers meanwhile).
            let head = runtime.head
            let materialized = runtime.zone
            if let gateway = try Self.gatewayService(
                address: try http.address(configured: settings.server.http), tls: http.tls,
                settings: settings.gateway, engine: runtime.engine,
                nodeLookup: runtime.dynamic, registry: metricsRegistry,
                isReady: { readiness.isReady && ((head?.isSynced ?? true) || materialized?.servesRestoredSnapshot == true) },
                chainStatus: Self.chainStatus(settings.chain, head: head), group: group, logger: logger)
            {
                serviceList.append(.init(service: gateway))
            }
        } catch {
            printError("onebzd: error: \(error)")
            await runtime.shutdown()
            throw ExitCode(1)
        }
        let services = ServiceGroup(
            configuration: .init(
                services: serviceList, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await services.run()
        } catch {
            logger.error("stopped with an error", metadata: ["error": "\(error)"])
            await runtime.shutdown()
            try await group.shutdownGracefully()
            throw ExitCode(1)
        }
        await runtime.shutdown()
        try await group.shutdownGracefully()
    }

    /// Defaults, then the file, then the flags.
    func loadConfiguration() throws -> ServerConfiguration {
        var settings = ServerConfiguration()
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else {
                throw ConfigurationError(key: "--config", "cannot read \(config)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(key: "--config", "\(config) is not UTF-8 text")
            }
            settings = try ServerConfiguration(toml: text)
        }
        try dns.apply(to: &settings)
        try upstreams.apply(to: &settings)
        try transfer.apply(to: &settings)
        try dot.apply(to: &settings)
        return settings
    }

    func originName() throws -> Name {
        do { return try Name(dns.origin) } catch {
            throw ConfigurationError(key: "--origin", "'\(dns.origin)' is not a domain name")
        }
    }

    private func printError(_ message: String) {
        var bytes = Array((message + "\n").utf8)
        _ = write(STDERR_FILENO, &bytes, bytes.count)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
