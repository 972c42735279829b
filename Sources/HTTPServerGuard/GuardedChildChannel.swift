import HummingbirdCore
import Logging
import NIOCore
// As NIOHTTPTypes: comes with HummingbirdHTTP2, not a declared dependency of this package.
import NIOSSL

/// A Hummingbird child channel (HTTP/1, or HTTPS with HTTP/2 by ALPN) with the
/// connection guard in front: the admission handler first in the pipeline, and, with
/// TLS, the handshake timeout right after the TLS handler. Everything else is `base`.
struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let connectionGuard: HTTPConnectionGuard
    /// Runs once `base` has set the channel up (HTTP/1's setup is synchronous).
    var afterSetup: (@Sendable (any Channel) throws -> Void)? = nil

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionAdmissionHandler(guard: connectionGuard))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        var value = base.setup(channel: channel, logger: logger)
        if let afterSetup {
            value = value.flatMapThrowing { value in
                try afterSetup(channel)
                return value
            }
        }
        // HTTP2UpgradeChannel adds the TLS handler synchronously, before ALPN.
        if let tls = try? channel.pipeline.syncOperations.context(handlerType: NIOSSLServerHandler.self) {
            let handler = TLSHandshakeTimeoutHandler(timeout: connectionGuard.limits.tlsHandshakeTimeout, guard: connectionGuard)
            do {
                try channel.pipeline.syncOperations.addHandler(handler, position: .after(tls.handler))
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
        return value
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
