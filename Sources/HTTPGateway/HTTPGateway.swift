import DNSEngine
import Foundation
import HTTPServerGuard
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import OneBZResolver
import Prometheus

/// The HTTP face of onebzd (docs/design.md#gateway): DoH (RFC 8484), `/resolve` JSON,
/// the lookup page, Prometheus `/metrics`, `/status/chain` and the health probes.
///
/// DNS answers come from the same `QueryEngine` value the UDP/TCP servers use, so
/// there is one answer path and one cache. The gateway itself holds no state beyond
/// its metric handles: build it once, then `router()` for tests or `application(...)`
/// for a `Service` to run in the process's `ServiceGroup`.
public struct HTTPGateway: Sendable {
    public let engine: QueryEngine
    /// Answers `/resolve?name=`; nil: that endpoint reports 503 "not configured".
    public let nodeLookup: (any NodeLookupService)?
    /// `/readyz` is 200 only while this returns true (e.g. the chain follower has synced).
    public let isReady: @Sendable () -> Bool
    public let registry: PrometheusCollectorRegistry
    public let settings: GatewaySettings
    let metrics: GatewayMetrics
    let resolveGuard: ResolveGuard
    /// Connection counts and caps of the server `application(...)` builds (in `/metrics`).
    public let connectionGuard: HTTPConnectionGuard
    /// `/status/chain`: the chain endpoints as the operator sees them (JSON, made per
    /// request); nil: 404, no chain configured.
    public var chainStatus: (@Sendable () -> ByteBuffer)?

    /// - Parameter now: monotonic nanoseconds for the `/resolve` rate limiter and proof cache.
    public init(
        engine: QueryEngine, nodeLookup: (any NodeLookupService)?, registry: PrometheusCollectorRegistry,
        isReady: @escaping @Sendable () -> Bool, settings: GatewaySettings = GatewaySettings(),
        now: @escaping @Sendable () -> UInt64 = { NIODeadline.now().uptimeNanoseconds }
    ) {
        self.engine = engine
        self.nodeLookup = nodeLookup
        self.isReady = isReady
        self.registry = registry
        self.settings = settings
        metrics = GatewayMetrics(registry: registry)
        resolveGuard = ResolveGuard(settings: settings, now: now)
        connectionGuard = HTTPConnectionGuard(
            limits: settings.server, metricsFactory: PrometheusMetricsFactory(registry: registry))
    }

    /// Every route, with CORS/method policy and request metrics in front.
    public func router() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.add(middleware: BrowserAccessMiddleware())

        let doh = DoHEndpoint(engine: engine, metrics: metrics)
        router.get("/dns-query") { request, context in await doh.get(request, context: context) }
        router.post("/dns-query") { request, context in await doh.post(request, context: context) }

        let resolve = ResolveEndpoint(engine: engine, nodeLookup: nodeLookup, guards: resolveGuard)
        router.get("/resolve") { request, context in await resolve.handle(request, context: context) }

        let page = LookupPage.response()
        router.get("/") { _, _ in page }
        router.get("/index.html") { _, _ in page }

        let registry = self.registry
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        let chainStatus = self.chainStatus
        router.get("/status/chain") { _, _ in
            guard let chainStatus else { return Self.text(.notFound, "no chain configured\n") }
            return Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: .init(byteBuffer: chainStatus()))
        }
        router.get("/healthz") { _, _ in Self.text(.ok, "ok\n") }
        let isReady = self.isReady
        router.get("/readyz") { _, _ in
            isReady() ? Self.text(.ok, "ready\n") : Self.text(.serviceUnavailable, "not ready\n")
        }
        return router
    }

    /// The HTTP server as a `Service`, bound to `host:port` on `eventLoopGroup`: plain
    /// HTTP/1.1, or with `tls` HTTPS with HTTP/2 and HTTP/1.1 (ALPN), which browsers and
    /// DoH clients (curl, kdig) need to use it directly. `settings.server`'s timeouts and
    /// connection caps apply (docs/gateway.md, Limits). `onListening` receives the bound
    /// port (useful with port 0). Throws when the TLS files cannot be loaded.
    public func application(
        host: String, port: Int, tls: TLSFiles? = nil, eventLoopGroup: any EventLoopGroup, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> Application<RouterResponder<GatewayRequestContext>> {
        let server: HTTPServerBuilder =
            if let tls {
                .guardedHTTP2Upgrade(tlsConfiguration: try tls.serverConfiguration(), connectionGuard)
            } else {
                .guardedHTTP1(connectionGuard)
            }
        return Application(
            router: router(),
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: logger)
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
