import DNSEngine
import DNSTestSupport
import DNSWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import DNSTransport

/// The TCP pipeline's handlers driven without sockets, as swift-nio tests its own:
/// the length-prefix decoder under every split of its input, the frame and idle
/// timeouts on an `EmbeddedEventLoop`'s virtual clock, and backpressure.
@Suite struct TCPPipelineTests {
    static func framed(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }

    /// RFC 7766 8: however the bytes of pipelined messages are split across reads,
    /// the decoder emits exactly the messages, in order.
    @Test func decoderEmitsEveryFrameWhateverTheSplits() throws {
        let first = EngineFixture.query("www.1bz", .a, id: 1)
        let second = EngineFixture.query("ns1.1bz", .aaaa, id: 2)
        let empty: [UInt8] = []
        let big = [UInt8](repeating: 0xAB, count: 700)
        let pairs: [(ByteBuffer, [ByteBuffer])] = [
            (ByteBuffer(bytes: Self.framed(first)), [ByteBuffer(bytes: first)]),
            (
                ByteBuffer(bytes: Self.framed(first) + Self.framed(second)),
                [ByteBuffer(bytes: first), ByteBuffer(bytes: second)]
            ),
            (ByteBuffer(bytes: Self.framed(empty) + Self.framed(big)), [ByteBuffer(), ByteBuffer(bytes: big)]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { DNSFrameDecoder() }
    }

    /// Knot's tcp-io-timeout: a message must arrive whole within the frame timeout of
    /// its first byte (a trickling client cannot hold the slot); a complete message
    /// disarms it.
    @Test func partialFrameClosesTheConnectionAfterTheFrameTimeout() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(
            handler: ByteToMessageHandler(DNSFrameDecoder(frameTimeout: .seconds(3))), loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 53)).wait()
        let query = Self.framed(EngineFixture.query("www.1bz", .a))
        try channel.writeInbound(ByteBuffer(bytes: query))
        #expect(try channel.readInbound(as: ByteBuffer.self) != nil)
        loop.advanceTime(by: .seconds(10))
        #expect(channel.isActive, "a complete message leaves no timer behind")

        try channel.writeInbound(ByteBuffer(bytes: query.prefix(5)))
        loop.advanceTime(by: .seconds(2))
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive, "closed 3 s after the partial message began")
    }

    /// The full pipeline as DNSServer builds it: answers are the engine's TCP answers,
    /// framed, in order for pipelined queries; an idle connection is closed (RFC 7766
    /// 6.2.3). (The real idle timer runs in RobustnessTCPAbuseTests against onebzd.)
    @Test func pipelinedQueriesAreAnsweredInOrderAndIdleConnectionsClosed() throws {
        let engine = QueryEngine(zone: EngineFixture.shippedZone)
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandlers([
            IdleStateHandler(readTimeout: .seconds(10)),
            ByteToMessageHandler(DNSFrameDecoder(frameTimeout: .seconds(10))),
            TCPQueryHandler(engine: engine),
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 53)).wait()
        let queries = [EngineFixture.query("www.1bz", .a, id: 7), EngineFixture.query("nope.1bz", .txt, id: 8)]
        try channel.writeInbound(ByteBuffer(bytes: queries.flatMap(Self.framed)))
        channel.pipeline.fireChannelReadComplete()  // as a socket read ends: the answers are flushed
        for query in queries {
            let framed = try #require(try channel.readOutbound(as: ByteBuffer.self))
            let expected = try #require(engine.respond(to: query, transport: .tcp))
            #expect(Array(framed.readableBytesView) == Self.framed(expected))
        }
        // The frame timer (virtual time) is disarmed by complete messages.
        loop.advanceTime(by: .seconds(30))
        #expect(channel.isActive)
        // NIO's IdleStateHandler measures idleness on the real clock, so its event is
        // delivered directly: the handler closes the idle connection.
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        #expect(!channel.isActive, "closed when idle")
    }

    /// Backpressure: while the client does not take its answers (the channel is not
    /// writable), the handler asks for no more reads; when it is writable again, it
    /// asks for one.
    @Test func readsStopWhileTheClientDoesNotTakeItsAnswers() throws {
        let reads = ReadCounter()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            reads, TCPQueryHandler(engine: QueryEngine(zone: EngineFixture.shippedZone)),
        ])
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(reads.count == 0)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(reads.count == 1)
    }

    /// Counts `read()` requests going out through the pipeline.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = Any
        private(set) var count = 0

        func read(context: ChannelHandlerContext) {
            count += 1
            context.read()
        }
    }
}
