import Atomics
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// UDP and TCP DNS on every listen address, as one Service: binds on `run()`, serves
/// until graceful shutdown, then closes its sockets.
public struct DNSServer: Service, CustomStringConvertible {
    public struct Configuration: Sendable {
        public var listen: [SocketAddress]
        public var tcpIdleTimeout: TimeAmount
        public var tcpMaxConnections: Int
        /// Largest UDP payload we answer with; also sizes the receive buffers.
        public var maxUDPPayload: Int
        /// UDP response-rate limiting (nil: off); each UDP socket limits on its own.
        package var rateLimit: ResponseRateLimiter.Configuration?
        /// DNS cookies on UDP (nil: off).
        package var cookies: DNSCookies.Configuration?

        public init(
            listen: [SocketAddress], tcpIdleTimeout: TimeAmount = .seconds(10), tcpMaxConnections: Int = 1024,
            maxUDPPayload: Int = 1232
        ) {
            self.listen = listen
            self.tcpIdleTimeout = tcpIdleTimeout
            self.tcpMaxConnections = tcpMaxConnections
            self.maxUDPPayload = maxUDPPayload
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
        var bound: [SocketAddress] = []
        do {
            for address in configuration.listen {
                let udp = try await bindUDP(address)
                channels += udp
                // With port 0 the kernel picked one: TCP takes the same.
                let actual = udp[0].localAddress ?? address
                channels.append(try await bindTCP(actual))
                bound.append(actual)
                logger.info("listening", metadata: ["address": "\(actual)", "udpSockets": "\(udp.count)"])
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        onListening(bound)
        try? await gracefulShutdown()
        logger.info("shutting down")
        for channel in channels { try? await channel.close() }
    }

    /// DESIGN.md "UDP fast path": one socket per event loop, SO_REUSEPORT (never
    /// SO_REUSEADDR on UDP), vector reads of 64 datagrams into fixed slots, 1 MiB buffers.
    private func bindUDP(_ address: SocketAddress) async throws -> [any Channel] {
        let reusePort = ChannelOptions.Types.SocketOption(
            level: .socket, name: NIOBSDSocket.Option(rawValue: SO_REUSEPORT))
        let batch = 64
        let engine = self.engine
        let rateLimit = configuration.rateLimit
        let cookies = configuration.cookies
        var channels: [any Channel] = []
        var target = address
        for loop in group.makeIterator() {
            let bootstrap = DatagramBootstrap(group: loop)
                .channelOption(reusePort, value: 1)
                .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 1 << 20)
                .channelOption(ChannelOptions.socketOption(.so_sndbuf), value: 1 << 20)
                .channelOption(ChannelOptions.datagramVectorReadMessageCount, value: batch)
                .channelOption(
                    ChannelOptions.recvAllocator,
                    value: FixedSizeRecvByteBufferAllocator(capacity: batch * max(configuration.maxUDPPayload, 512))
                )
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UDPQueryHandler(engine: engine, rateLimit: rateLimit, cookies: cookies))
                    }
                }
            let channel = try await bootstrap.bind(to: target).get()
            if target.port == 0, let local = channel.localAddress { target = local }
            channels.append(channel)
        }
        return channels
    }

    private func bindTCP(_ address: SocketAddress) async throws -> any Channel {
        let engine = self.engine
        let idle = configuration.tcpIdleTimeout
        let maxConnections = configuration.tcpMaxConnections
        let open = ManagedAtomic<Int>(0)
        let logger = self.logger
        return try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                // Connection cap: beyond it, new connections are closed at once.
                let admitted = open.wrappingIncrementThenLoad(ordering: .relaxed) <= maxConnections
                channel.closeFuture.whenComplete { _ in open.wrappingDecrement(ordering: .relaxed) }
                guard admitted else {
                    logger.debug("tcp connection refused: cap reached", metadata: ["cap": "\(maxConnections)"])
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(CloseOnActiveHandler())
                    }
                }
                return channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    try operations.addHandler(IdleStateHandler(readTimeout: idle))
                    // Frames are at most 65535 + 2 bytes; buffer a little more for pipelining.
                    try operations.addHandler(
                        ByteToMessageHandler(DNSFrameDecoder(frameTimeout: idle), maximumBufferSize: 4 * 65537))
                    try operations.addHandler(TCPQueryHandler(engine: engine))
                }
            }
            .bind(to: address).get()
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
