import HTTPServerGuard

/// What an operator tunes on the gateway (`[gateway]` in onebzd's config,
/// docs/configuration.md): the HTTP server's timeouts and connection caps, and the
/// per-client rate of `/resolve`, the endpoint whose misses cost upstream lookups.
public struct GatewaySettings: Sendable, Equatable {
    public var server = HTTPServerLimits()
    /// `/resolve` requests per second per client address; 0: unlimited.
    public var resolveRate: Double = 20
    /// `/resolve` burst per client address.
    public var resolveBurst: Double = 40

    public init() {}
}
