import ConnectionLimits
import DNSEngine
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import ZoneTransfer

#if canImport(Glibc)
    import Glibc
#endif

/// UDP and TCP DNS on every listen address, as one Service: binds on `run()`, serves
/// until graceful shutdown, then closes its sockets. UDP is the fast path (`UDPWorker`,
/// one thread and SO_REUSEPORT socket per event loop); TCP runs on the NIO event loops.
/// DNS over TLS (`dot`) listens on its own addresses with a TLS handler in front of the
/// same TCP pipeline (`addQueryHandlers`), so DoT and XoT answer exactly as TCP does.
public struct DNSServer: Service, CustomStringConvertible {
    public struct Configuration: Sendable {
        public var listen: [SocketAddress]
        public var tcpIdleTimeout: TimeAmount
        public var tcpMaxConnections: Int
        /// TCP connections one client (an IPv4 address or IPv6 /64) may hold at once.
        public var tcpMaxConnectionsPerClient: Int
        /// UDP response-rate limiting (nil: off); each UDP socket limits on its own.
        /// (Cookies are the engine's: `QueryEngine.Configuration.cookies`.)
        package var rateLimit: ResponseRateLimiter.Configuration?
        /// Zone transfers (AXFR/IXFR, TSIG, ACLs); nil: transfers are REFUSED and TSIG
        /// records are ignored, as before transfers existed.
        public var transfers: ZoneTransferResponder?
        /// DNS over TLS and XoT (nil: no TLS listener).
        public var dot: DoTConfiguration?

        public init(
            listen: [SocketAddress], tcpIdleTimeout: TimeAmount = .seconds(10), tcpMaxConnections: Int = 1024,
            tcpMaxConnectionsPerClient: Int = 64
        ) {
            self.listen = listen
            self.tcpIdleTimeout = tcpIdleTimeout
            self.tcpMaxConnections = tcpMaxConnections
            self.tcpMaxConnectionsPerClient = tcpMaxConnectionsPerClient
        }
    }

    private let engine: QueryEngine
    private let configuration: Configuration
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable ([SocketAddress]) -> Void

    public init(
        engine: QueryEngine, configuration: Configuration, group: MultiThreadedEventLoopGroup, logger: Logger,
        onListening: @escaping @Sendable ([SocketAddress]) -> Void = { _ in }
    ) {
        self.engine = engine
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.onListening = onListening
    }

    /// Short, because Service Lifecycle logs services by description.
    public var description: String { "DNSServer(\(configuration.listen.map { "\($0)" }.joined(separator: ", ")))" }

    public func run() async throws {
        var channels: [any Channel] = []
        var workers: [UDPWorker] = []
        var bound: [SocketAddress] = []
        do {
            for address in configuration.listen {
                let (udp, tcp) = try await bindBoth(address)
                workers += udp
                channels.append(tcp)
                let actual = udp[0].socket.localAddress
                bound.append(actual)
                logger.info("listening", metadata: ["address": "\(actual)", "udpThreads": "\(udp.count)"])
            }
            if let dot = configuration.dot {
                let admission = DoTAdmission(dot)
                for address in dot.listen {
                    let channel = try await bindTLS(address, dot: dot, admission: admission)
                    channels.append(channel)
                    logger.info(
                        "listening (DNS over TLS)",
                        metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
                }
            }
        } catch {
            for channel in channels { try? await channel.close() }
            for worker in workers { worker.socket.close() }
            throw error
        }
        let stopped: @Sendable () async -> Void
        do {
            stopped = try await start(workers)
        } catch {
            for channel in channels { try? await channel.close() }
            for worker in workers { worker.socket.close() }
            throw error
        }
        onListening(bound)
        try? await gracefulShutdown()
        logger.info("shutting down")
        for worker in workers { worker.stop() }
        for channel in channels { try? await channel.close() }
        await stopped()
        for worker in workers { worker.socket.close() }
    }

    /// UDP and TCP on one address. With port 0 the kernel picks a UDP port and TCP takes
    /// the same; when that port is busy for TCP (another process's socket), another
    /// port is tried, a few times, instead of failing.
    private func bindBoth(_ address: SocketAddress) async throws -> ([UDPWorker], any Channel) {
        var attempt = 0
        while true {
            attempt += 1
            let udp = try bindUDP(address)
            do {
                return (udp, try await bindTCP(udp[0].socket.localAddress))
            } catch {
                for worker in udp { worker.socket.close() }
                guard address.port == 0, attempt < 10 else { throw error }
            }
        }
    }

    /// Binds one SO_REUSEPORT socket per thread (as many as event loops) on `address`.
    private func bindUDP(_ address: SocketAddress) throws -> [UDPWorker] {
        var target = address
        var workers: [UDPWorker] = []
        do {
            for _ in 0..<threadCount {
                let socket = try UDPSocket(binding: target)
                target = socket.localAddress
                workers.append(
                    UDPWorker(
                        socket: socket, engine: engine, rateLimit: configuration.rateLimit,
                        transfers: configuration.transfers, logger: logger))
            }
        } catch {
            for worker in workers { worker.socket.close() }
            throw error
        }
        return workers
    }

    /// Starts the workers' threads; the returned function waits until all have exited.
    /// If a thread cannot be started, the ones already running are stopped and awaited
    /// (so their sockets can be closed safely) before the error is thrown.
    private func start(_ workers: [UDPWorker]) async throws -> @Sendable () async -> Void {
        let exited = AsyncStream<Void>.makeStream(bufferingPolicy: .unbounded)
        let awaitExits: @Sendable (Int) async -> Void = { count in
            guard count > 0 else { return }
            var remaining = count
            for await _ in exited.stream {
                remaining -= 1
                if remaining == 0 { break }
            }
        }
        for (started, worker) in workers.enumerated() {
            do {
                try worker.start { exited.continuation.yield() }
            } catch {
                for running in workers[..<started] { running.stop() }
                await awaitExits(started)
                throw error
            }
        }
        return { await awaitExits(workers.count) }
    }

    private var threadCount: Int {
        var count = 0
        for _ in group.makeIterator() { count += 1 }
        return max(1, count)
    }

    private func bindTCP(_ address: SocketAddress) async throws -> any Channel {
        let engine = self.engine
        let idle = configuration.tcpIdleTimeout
        let maxConnections = configuration.tcpMaxConnections
        let maxPerClient = configuration.tcpMaxConnectionsPerClient
        let limiter = NIOLockedValueBox(
            ConnectionLimiter(maxConnections: maxConnections, maxConnectionsPerClient: maxPerClient))
        // Made once per listener, not looked up in the metrics factory per refusal.
        let refusedTotal = Counter(label: "onebz_dns_tcp_refused_total", dimensions: [("reason", "listener_cap")])
        let refusedPerClient = Counter(label: "onebz_dns_tcp_refused_total", dimensions: [("reason", "client_cap")])
        let logger = self.logger
        let transfers = configuration.transfers
        let observer = TransferObserver(logger: logger)
        return try await streamBootstrap()
            .childChannelInitializer { channel in
                // Connection caps (the listener's, one client's): beyond them, new
                // connections are closed at once.
                let client = ConnectionLimiter.ClientKey(channel.remoteAddress)
                let decision = limiter.withLockedValue { $0.opened(client) }
                guard decision == .admit else {
                    let reason = decision == .refuseTotal ? "listener_cap" : "client_cap"
                    (decision == .refuseTotal ? refusedTotal : refusedPerClient).increment()
                    logger.debug(
                        "tcp connection refused: cap reached",
                        metadata: [
                            "cap": "\(decision == .refuseTotal ? maxConnections : maxPerClient)", "reason": "\(reason)",
                            "client": "\(channel.remoteAddress.map { "\($0)" } ?? "?")",
                        ])
                    return Self.refuse(channel)
                }
                return Self.admit(channel, release: { limiter.withLockedValue { $0.closed(client) } }) { operations in
                    try Self.addQueryHandlers(
                        operations, engine: engine, transfers: transfers, observer: observer, idle: idle, padding: false)
                }
            }
            .bind(to: address).get()
    }

    /// The DNS-over-TCP pipeline, for plain TCP and behind TLS: idle timeout, framing
    /// (with the per-message deadline), the query handler.
    static func addQueryHandlers(
        _ operations: ChannelPipeline.SynchronousOperations, engine: QueryEngine, transfers: ZoneTransferResponder?,
        observer: TransferObserver, idle: TimeAmount, padding: Bool
    ) throws {
        try operations.addHandler(IdleStateHandler(readTimeout: idle))
        // Frames are at most 65535 + 2 bytes; buffer a little more for pipelining.
        try operations.addHandler(
            ByteToMessageHandler(DNSFrameDecoder(frameTimeout: idle), maximumBufferSize: 4 * 65537))
        try operations.addHandler(
            TCPQueryHandler(engine: engine, transfers: transfers, observer: observer, padding: padding))
    }

    /// A DoT listener (RFC 7858): caps (connections, per client, handshakes in
    /// progress) checked first, then TLS with the context current when the connection
    /// opened, the handshake deadline, and the TCP pipeline with padding.
    private func bindTLS(_ address: SocketAddress, dot: DoTConfiguration, admission: DoTAdmission) async throws
        -> any Channel
    {
        let engine = self.engine
        let transfers = configuration.transfers
        let logger = self.logger
        let observer = TransferObserver(logger: logger)
        return try await streamBootstrap()
            .childChannelInitializer { channel in
                let client = ConnectionLimiter.ClientKey(channel.remoteAddress)
                if let refusal = admission.opened(client) {
                    logger.debug(
                        "dot connection refused",
                        metadata: [
                            "reason": "\(refusal.rawValue)",
                            "client": "\(channel.remoteAddress.map { "\($0)" } ?? "?")",
                        ])
                    return Self.refuse(channel)
                }
                return Self.admit(channel, release: { admission.closed(client) }) { operations in
                    try operations.addHandler(Self.tlsHandler(dot))
                    try operations.addHandler(DoTHandshakeHandler(admission: admission, timeout: dot.handshakeTimeout))
                    try Self.addQueryHandlers(
                        operations, engine: engine, transfers: transfers, observer: observer, idle: dot.idleTimeout,
                        padding: true)
                }
            }
            .bind(to: address).get()
    }

    /// A stream connection over a cap: closed as soon as it is active.
    private static func refuse(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(CloseOnActiveHandler())
        }
    }

    /// An admitted stream connection: gives its slot back (`release`) when it closes, and
    /// gets its handlers.
    private static func admit(
        _ channel: any Channel, release: @escaping @Sendable () -> Void,
        handlers: (ChannelPipeline.SynchronousOperations) throws -> Void
    ) -> EventLoopFuture<Void> {
        channel.closeFuture.whenComplete { _ in release() }
        return channel.eventLoop.makeCompletedFuture { try handlers(channel.pipeline.syncOperations) }
    }

    /// The listening socket of a stream listener (TCP, TLS): a backlog of 256, address
    /// reuse, no Nagle delay on the connections.
    private func streamBootstrap() -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
    }

    /// With client certificates requested, any certificate the client proves it holds
    /// the key of is accepted here; the transfer ACL's pin decides what it allows.
    private static func tlsHandler(_ dot: DoTConfiguration) -> NIOSSLServerHandler {
        guard dot.requestClientCertificate else { return NIOSSLServerHandler(context: dot.context.context) }
        return NIOSSLServerHandler(context: dot.context.context) { _, promise in promise.succeed(.certificateVerified) }
    }
}

/// Closes a connection as soon as it is active (over the connection cap). Closing in
/// the initializer, before registration, does not reliably reach the socket.
private final class CloseOnActiveHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }
}
