import ChainReader
import DNSEngine
import Foundation
import HTTPGateway
import HTTPServerGuard
import Logging
import Metrics
import NIOCore
import OneBZResolver
import Prometheus
import ServiceLifecycle

extension OnebzdCommand {
    /// swift-metrics -> Prometheus, once per process; `/metrics` serves this registry.
    static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// The HTTP gateway service when an address is configured (`--http` or `server.http`).
    /// Throws when the TLS files cannot be loaded (the error names the file).
    static func gatewayService(
        address: HostPort?, tls: TLSFiles?, settings: GatewaySettings, engine: QueryEngine,
        nodeLookup: (any NodeLookupService)?, registry: PrometheusCollectorRegistry,
        isReady: @escaping @Sendable () -> Bool, chainStatus: (@Sendable () -> ByteBuffer)?, group: any EventLoopGroup, logger: Logger
    ) throws -> (any Service)? {
        guard let address else { return nil }
        var gateway = HTTPGateway(
            engine: engine, nodeLookup: nodeLookup, registry: registry, isReady: isReady, settings: settings)
        gateway.chainStatus = chainStatus
        return try gateway.application(
            host: address.host, port: address.port, tls: tls, eventLoopGroup: group, logger: logger,
            onListening: { port in logger.info("http gateway listening", metadata: ["address": "\(address.host):\(port)"]) })
    }

    /// `/status/chain`: every configured endpoint (`chain.rpc_urls`, in order) with the
    /// process's numbers for it, and the follower's head; nil without a chain.
    static func chainStatus(_ chain: ServerConfiguration.Chain?, head: ChainHead?) -> (@Sendable () -> ByteBuffer)? {
        guard let chain else { return nil }
        var names: [String] = []
        for name in chain.rpcURLs.map(JSONRPCClient.redacted) where !names.contains(name) { names.append(name) }
        return { [names] in
            let current = head.flatMap { $0.isSynced ? $0.current : nil }
            let endpoints = EndpointStatistics.shared.reports(names, head: current)
            let report = ChainStatusReport(head: current, endpoints: endpoints)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return ByteBuffer(bytes: (try? encoder.encode(report)) ?? Data("{}".utf8))
        }
    }
}
