import ArgumentParser
import CommandLineLogging
import Foundation
import HTTPServerGuard
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Prometheus
import ServiceLifecycle
import TOMLConfiguration
import UnixSignals

/// `onebz-web`: the web gateway (docs/gateway.md, "onebz-web, the web gateway").
@main
struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onebz-web",
        abstract: "Web gateway to 1bz nodes: NAME.<domain> reaches NAME.1bz, only over TLS to the key its DNSSEC-signed TLSA publishes.",
        discussion: """
            Resolves through a validating resolver (libunbound) that asks only --resolver (onebzd or a
            1bz secondary) and trusts only answers that validate from --trust-anchor (the DS or
            DNSKEY of 1bz.).
              onebz-web --domain 1bz.example.net --resolver 127.0.0.1@5353 --trust-anchor 1bz.ds \\
                --listen 0.0.0.0:443 --tls-cert fullchain.pem --tls-key key.pem
            Flags override the config file (docs/configuration.md, "onebz-web"). /metrics and
            /healthz answer on the bare gateway domain. Stops gracefully on SIGINT or SIGTERM.
            """)

    @Option(help: "TOML configuration file; flags override it.")
    var config: String?

    @Option(help: "HOST:PORT to listen on (default 127.0.0.1:8443).")
    var listen: String?

    @Option(help: "Gateway domain: NAME.<domain> is NAME.1bz.")
    var domain: String?

    @Option(help: "onebzd or a 1bz secondary, ADDRESS@PORT (e.g. 127.0.0.1@5353).")
    var resolver: String?

    @Option(help: "File with the DS or DNSKEY records of 1bz. (zone-file format).")
    var trustAnchor: String?

    @Option(help: "PEM certificate chain for HTTPS (HTTP/2 and HTTP/1.1); without it, plain HTTP/1.1.")
    var tlsCert: String?

    @Option(help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    @Flag(help: "Allow nodes on loopback addresses (tests, the demo).")
    var allowLoopbackNodes = false

    @Option(help: "Allow nodes in this network (CIDR); repeatable.")
    var allowNetwork: [String] = []

    @Flag(help: "Proxy plain HTTP to nodes without TLSA, marked unverified.")
    var allowPlainHTTPNodes = false

    @Option(help: "Access log file (Combined Log Format); - for standard output.")
    var accessLog: String?

    @OptionGroup var log: LogOptions

    func loadConfiguration() throws(ConfigurationError) -> WebConfiguration {
        var settings = WebConfiguration()
        if let config { try settings.read(file: config) }
        if let listen { try settings.setListen(listen, key: "--listen") }
        if let domain { try settings.setDomain(domain, key: "--domain") }
        if let resolver { try settings.setResolver(resolver, key: "--resolver") }
        if let trustAnchor { settings.trustAnchorFile = trustAnchor }
        if tlsCert != nil || tlsKey != nil {
            guard let tlsCert, let tlsKey else {
                throw ConfigurationError(key: tlsCert == nil ? "--tls-cert" : "--tls-key", "--tls-cert and --tls-key go together")
            }
            settings.tls = TLSFiles(certificateChain: tlsCert, privateKey: tlsKey)
        }
        if allowLoopbackNodes { settings.allowedNetworks += WebConfiguration.loopbackNetworks }
        for text in allowNetwork {
            guard let prefix = NetworkPrefix(text) else {
                throw ConfigurationError(key: "--allow-network", "\"\(text)\" is not a network such as 10.1.0.0/16")
            }
            settings.allowedNetworks.append(prefix)
        }
        if allowPlainHTTPNodes { settings.allowPlainHTTPNodes = true }
        if let accessLog { settings.accessLog = accessLog }
        try settings.validate()
        return settings
    }

    mutating func run() async throws {
        let logger = log.bootstrap(label: "onebz-web")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let settings: WebConfiguration
        let lookup: ValidatedLookup
        let accessLog: AccessLog
        let certificate: ReloadableTLSFiles?
        do {
            settings = try loadConfiguration()
            lookup = try ValidatedLookup(
                forwarder: settings.resolver, trustAnchorFile: settings.trustAnchorFile, threads: settings.resolverThreads)
            accessLog = try AccessLog(path: settings.accessLog)
            certificate = try settings.tls.map { files throws(TLSFilesError) in try ReloadableTLSFiles(files: files) }
        } catch {
            FileHandle.standardError.write(Data("onebz-web: error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let tlsConfiguration = certificate?.serverConfiguration()
        // Trapped now, before anything listens: SIGHUP's default action would end the process.
        let hangups = certificate == nil ? nil : await UnixSignalsSequence(trapping: .sighup)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let pool = NodePool(
            group: group, maxPerKey: settings.nodeIdleConnections, maxTotal: settings.nodeIdleConnectionsTotal,
            idleTime: settings.nodeIdleTimeout)
        let connector = try NodeConnector(
            group: group, connectTimeout: settings.connectTimeout, responseTimeout: settings.upstreamTimeout, pool: pool)
        let own = NetworkPrefix.parse(settings.listenHost).map { [$0] } ?? []
        let policy = AddressPolicy(
            allowed: settings.allowedNetworks,
            own: own.filter { bytes in !bytes.allSatisfy { $0 == 0 } })
        let responder = GatewayResponder(
            configuration: settings, directory: NodeDirectory(lookup: lookup), connector: connector, policy: policy,
            accessLog: accessLog, registry: registry, scheme: tlsConfiguration == nil ? "http" : "https")
        let connectionGuard = HTTPConnectionGuard(limits: settings.limits)
        // After the HTTP/1 decoder: the WebSocket upgrade handler, then the absolute-form marker.
        let installHTTP1: @Sendable (any Channel) throws -> Void = { channel in
            try AbsoluteFormMarker.install(channel)
            try WebSocketUpgradeHandler.install(channel, responder: responder)
        }
        let server: HTTPServerBuilder =
            if let tlsConfiguration {
                .guardedHTTP2Upgrade(tlsConfiguration: tlsConfiguration, connectionGuard) { channel in
                    // HTTP/1.1 is set up when ALPN says so, after the handshake.
                    let tls = try channel.pipeline.syncOperations.context(handlerType: NIOSSLServerHandler.self)
                    try channel.pipeline.syncOperations.addHandler(
                        AbsoluteFormMarker.Installer(install: installHTTP1), position: .after(tls.handler))
                }
            } else {
                .guardedHTTP1(connectionGuard, afterSetup: installHTTP1)
            }
        let listenLogger = logger
        let application = Application(
            responder: responder, server: server,
            configuration: .init(address: .hostname(settings.listenHost, port: settings.listenPort), serverName: nil),
            onServerRunning: { channel in
                listenLogger.notice(
                    "listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")", "domain": "\(settings.domain)"])
            },
            eventLoopGroupProvider: .shared(group), logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: application), .init(service: pool)]
        if let certificate, let hangups {
            services.append(
                .init(
                    service: CertificateReloader(
                        certificate: certificate, hangups: hangups, interval: settings.tlsReloadInterval, logger: logger)))
        }
        let serviceGroup = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await serviceGroup.run()
        } catch {
            logger.error("stopped with an error", metadata: ["error": "\(error)"])
            try await group.shutdownGracefully()
            throw ExitCode(1)
        }
        try await group.shutdownGracefully()
    }
}
