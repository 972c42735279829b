import DNSTransport
import HTTPServerGuard
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import TOMLConfiguration
import UnixSignals

extension OnebzdCommand {
    /// `[dot]` made real: the addresses resolved and the TLS context built from the
    /// certificate files (the same loader as the gateway's HTTPS). Nil without `[dot]`.
    static func dotConfiguration(_ settings: ServerConfiguration) throws(ConfigurationError) -> DoTConfiguration? {
        guard let dot = settings.dot else { return nil }
        var listen: [SocketAddress] = []
        for (index, address) in dot.listen.enumerated() {
            do { listen.append(try SocketAddress(ipAddress: address.host, port: address.port)) } catch {
                throw ConfigurationError(key: "dot.listen[\(index)]", "\(address) is not IPv4:PORT or [IPv6]:PORT")
            }
        }
        let clientCertificates = settings.transfer.allow.contains { $0.clientKeySHA256 != nil }
        var configuration = DoTConfiguration(
            listen: listen, context: DoTContext(try dotContext(dot, clientCertificates: clientCertificates)))
        configuration.idleTimeout = .nanoseconds(dot.idleTimeout.nanoseconds)
        configuration.handshakeTimeout = .nanoseconds(dot.handshakeTimeout.nanoseconds)
        configuration.maxConnections = dot.maxConnections
        configuration.maxConnectionsPerClient = dot.maxConnectionsPerClient
        configuration.maxHandshakes = dot.maxHandshakes
        configuration.requestClientCertificate = clientCertificates
        return configuration
    }

    /// TLS 1.3 and 1.2, ALPN `dot` (RFC 7858 3.1 via RFC 8310), session tickets
    /// (BoringSSL's default: resumption). Errors name the key of the file that failed.
    static func dotContext(_ dot: ServerConfiguration.DoT, clientCertificates: Bool) throws(ConfigurationError)
        -> NIOSSLContext
    {
        var tls: TLSConfiguration
        do {
            tls = try TLSFiles(certificateChain: dot.certFile, privateKey: dot.keyFile).serverConfiguration()
        } catch {
            throw ConfigurationError(key: error.file == dot.certFile ? "dot.cert_file" : "dot.key_file", "\(error)")
        }
        tls.minimumTLSVersion = .tlsv12
        tls.applicationProtocols = ["dot"]
        // A closing connection (idle, or the server stopping) waits this long for the
        // client's close_notify, not NIOSSL's 5 s: its slot is freed sooner.
        tls.shutdownTimeout = .seconds(1)
        if clientCertificates { tls.certificateVerification = .optionalVerification }
        do { return try NIOSSLContext(configuration: tls) } catch {
            throw ConfigurationError(
                key: "dot.cert_file", "\(dot.certFile) and \(dot.keyFile) make no TLS context: \(error)")
        }
    }
}

/// Reloads the DoT certificate and key on SIGHUP: a new TLS context for new
/// connections; open connections keep theirs. A reload that fails (a file half
/// written, a key that does not match) is logged and the old context stays.
struct DoTCertificateReloader: Service {
    let settings: ServerConfiguration.DoT
    let clientCertificates: Bool
    let context: DoTContext
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        logger.info("dot: certificates are reloaded on SIGHUP", metadata: ["cert": "\(settings.certFile)"])
        for await _ in signals.cancelOnGracefulShutdown() {
            do {
                context.replace(with: try OnebzdCommand.dotContext(settings, clientCertificates: clientCertificates))
                logger.notice("dot: certificates reloaded", metadata: ["cert": "\(settings.certFile)"])
            } catch {
                logger.error("dot: reload failed, the previous certificate stays", metadata: ["error": "\(error)"])
            }
        }
    }
}
