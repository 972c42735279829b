import ArgumentParser
import DNSWire
import Logging
import NIOCore
import NIOPosix
import OneBZResolver
import ServiceLifecycle
import ZoneCache

#if canImport(Glibc)
    import Glibc
#endif

/// `onebzd`: the authoritative DNS server for the 1bz TLD. Options are grouped so that
/// later issues can add `--config` and chain/registry groups beside them.
@main
struct OnebzdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onebzd",
        abstract: "Authoritative DNS server for the .1bz TLD.",
        discussion: """
            Serves the static zone file over UDP and TCP on every --listen address.
            Example: onebzd --zone zones/1bz.zone --listen 127.0.0.1:5353
            Stops gracefully on SIGINT or SIGTERM.
            """)

    @OptionGroup(title: "DNS")
    var dns: DNSOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    mutating func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .trace
            return handler
        }
        var logger = Logger(label: "onebzd")
        logger.logLevel = logLevel

        let zone: Zone
        do {
            zone = try Zone(file: dns.zone, apex: try dns.originName())
        } catch {
            // The zone error names file and line; exit non-zero without a stack of noise.
            printError("onebzd: error: \(error)")
            throw ExitCode(1)
        }
        logger.info(
            "zone loaded",
            metadata: ["file": "\(dns.zone)", "apex": "\(zone.apex)", "nodes": "\(zone.nodes.count)"])

        let engine = QueryEngine(
            zone: zone,
            configuration: .init(
                identity: dns.noChaos ? nil : dns.identity,
                version: dns.noChaos ? nil : dns.versionString))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: dns.threads ?? System.coreCount)
        let server = DNSServer(
            engine: engine,
            configuration: .init(
                listen: try dns.listenAddresses(), tcpIdleTimeout: .seconds(Int64(dns.tcpIdleTimeout)),
                tcpMaxConnections: dns.tcpMaxConnections),
            group: group, logger: logger)
        let services = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await services.run()
        } catch {
            logger.error("stopped", metadata: ["error": "\(error)"])
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        try await group.shutdownGracefully()
    }

    private func printError(_ message: String) {
        var bytes = Array((message + "\n").utf8)
        _ = write(STDERR_FILENO, &bytes, bytes.count)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
