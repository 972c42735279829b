import HummingbirdCore
import HummingbirdHTTP2
import NIOCore

extension HTTPServerBuilder {
    /// HTTP/1.1 with `connectionGuard`'s limits: idle/header timeout, body timeout,
    /// connection caps. `afterSetup` runs on each connection once its HTTP/1 pipeline is
    /// in place (onebz-web adds a handler that sees the raw request line there).
    public static func guardedHTTP1(
        _ connectionGuard: HTTPConnectionGuard, afterSetup: (@Sendable (any Channel) throws -> Void)? = nil
    ) -> HTTPServerBuilder {
        let configuration = streamConfiguration(connectionGuard)
        return HTTPServerBuilder { responder in
            GuardedChildChannel(
                base: HTTP1Channel(responder: responder, configuration: configuration), connectionGuard: connectionGuard,
                afterSetup: afterSetup)
        }
    }

    /// HTTPS with HTTP/2 and HTTP/1.1 (ALPN) with `connectionGuard`'s limits, plus the TLS
    /// handshake timeout; an HTTP/2 connection without open streams is idle. `afterSetup`
    /// runs once the TLS and ALPN handlers are in place (before the handshake).
    public static func guardedHTTP2Upgrade(
        tlsConfiguration: TLSConfiguration, _ connectionGuard: HTTPConnectionGuard,
        afterSetup: (@Sendable (any Channel) throws -> Void)? = nil
    ) -> HTTPServerBuilder {
        let limits = connectionGuard.limits
        let configuration = HTTP2UpgradeChannel.Configuration(
            idleTimeout: limits.idleTimeout, gracefulCloseTimeout: limits.idleTimeout,
            streamConfiguration: streamConfiguration(connectionGuard))
        return HTTPServerBuilder { responder in
            GuardedChildChannel(
                base: try HTTP2UpgradeChannel(
                    tlsConfiguration: tlsConfiguration, configuration: configuration, responder: responder),
                connectionGuard: connectionGuard, afterSetup: afterSetup)
        }
    }

    private static func streamConfiguration(_ connectionGuard: HTTPConnectionGuard) -> HTTP1Channel.Configuration {
        let limits = connectionGuard.limits
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestBodyTimeoutHandler(timeout: limits.bodyTimeout, guard: connectionGuard)],
            idleTimeout: TimeAmount(limits.idleTimeout))
    }
}
