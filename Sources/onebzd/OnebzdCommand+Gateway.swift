import DNSEngine
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
        nodeLookup: (any NodeLookupService)?, registry: PrometheusCollectorRegistry, isReady: @escaping @Sendable () -> Bool, group: any EventLoopGroup,
        logger: Logger
    ) throws -> (any Service)? {
        guard let address else { return nil }
        let gateway = HTTPGateway(
            engine: engine, nodeLookup: nodeLookup, registry: registry, isReady: isReady, settings: settings)
        return try gateway.application(
            host: address.host, port: address.port, tls: tls, eventLoopGroup: group, logger: logger,
            onListening: { port in logger.info("http gateway listening", metadata: ["address": "\(address.host):\(port)"]) })
    }
}
