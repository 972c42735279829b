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

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionAdmissionHandler(guard: connectionGuard))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let value = base.setup(channel: channel, logger: logger)
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
