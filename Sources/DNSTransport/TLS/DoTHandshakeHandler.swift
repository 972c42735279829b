import ConnectionLimits
import Crypto
import DNSEngine
import NIOCore
import NIOSSL

/// Right after the TLS handler of a DoT connection: the handshake must finish within
/// the timeout of the connection opening, else the connection is closed (nothing
/// reaches the DNS handlers before it does, so nothing else would time it out). Counts
/// the handshake's outcome once; when it completes, tells the query handler what
/// protects the connection (`ChannelSecurity`: TLS, and the client certificate's key
/// hash for the transfer ACL's pins). After the handshake it stays to count TLS errors
/// (renegotiation attempts, oversized or corrupt records), each of which closes the
/// connection.
final class DoTHandshakeHandler: TLSHandshakeWatcher {
    typealias InboundIn = ByteBuffer

    private enum State {
        case waiting
        case handshaking(Scheduled<Void>)
        case established
        case ended
    }

    private let admission: DoTAdmission
    private let timeout: TimeAmount
    private var state = State.waiting

    init(admission: DoTAdmission, timeout: TimeAmount) {
        self.admission = admission
        self.timeout = timeout
    }

    func connectionStarted(context: ChannelHandlerContext) {
        start(context)
    }

    func handshakeCompleted(context: ChannelHandlerContext, event: Any) {
        end(.ok, next: .established)
        context.fireUserInboundEventTriggered(event)
        context.fireUserInboundEventTriggered(ChannelSecurity.tls(clientKeySHA256: Self.clientKeyHash(context)))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .waiting, .handshaking: end(.failed, next: .ended)
        case .established: admission.metrics.tlsErrors.increment()
        case .ended: break
        }
        Self.closeAtOnce(context)
    }

    func connectionEnded(context: ChannelHandlerContext) {
        end(.aborted, next: .ended)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard case .waiting = state else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        state = .handshaking(
            context.eventLoop.scheduleTask(in: timeout) {
                let (handler, context) = bound.value
                handler.end(.timeout, next: .ended)
                Self.closeAtOnce(context)
            })
    }

    /// Counts the handshake's outcome if it was still open (once per connection).
    private func end(_ result: DoTAdmission.HandshakeResult, next: State) {
        switch state {
        case .waiting:
            admission.handshakeEnded(result)
        case .handshaking(let deadline):
            deadline.cancel()
            admission.handshakeEnded(result)
        case .established, .ended:
            return
        }
        state = next
    }

    /// Closes the socket without the TLS handler's graceful shutdown (which waits up to
    /// its shutdown timeout for the peer's close_notify): an abuser gets no more time.
    private static func closeAtOnce(_ context: ChannelHandlerContext) {
        guard let tls = try? context.pipeline.syncOperations.context(handlerType: NIOSSLServerHandler.self) else {
            context.close(promise: nil)
            return
        }
        // Outbound from the TLS handler's own context: reaches the socket, not the TLS handler.
        tls.close(promise: nil)
    }

    /// SHA-256 of the client certificate's DER SubjectPublicKeyInfo, if it sent one.
    private static func clientKeyHash(_ context: ChannelHandlerContext) -> [UInt8]? {
        guard let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
            let certificate = tls.peerCertificate, let spki = try? certificate.extractPublicKey().toSPKIBytes()
        else { return nil }
        return Array(SHA256.hash(data: spki))
    }
}

@available(*, unavailable)
extension DoTHandshakeHandler: Sendable {}
