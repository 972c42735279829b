import DNSEngine
import DNSTestSupport
import DNSWire
import NIOCore
import NIOEmbedded
import Testing
import ZoneTransfer

@testable import DNSTransport

/// The TCP handler sending a transfer: a few messages per event-loop turn, nothing while
/// the channel is not writable, the rest when it is again; a query pipelined behind the
/// AXFR is answered after the transfer's last message.
@Suite struct TransferStreamingTests {
    static func framed(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }

    func frames(_ channel: EmbeddedChannel) throws -> [Message] {
        var messages: [Message] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            let bytes = Array(buffer.readableBytesView)
            #expect(Int(bytes[0]) << 8 | Int(bytes[1]) == bytes.count - 2)
            messages.append(try Message(decoding: Array(bytes.dropFirst(2))))
        }
        return messages
    }

    @Test func axfrStreamsWithBackpressureThenAnswersThePipelinedQuery() throws {
        let zone = TransferFixture.zone(serial: 5, names: 10_000)
        let responder = TransferFixture.responder(StaticZoneTransferSource(zone: zone))
        let engine = QueryEngine(zone: zone)
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(DNSFrameDecoder()),
            TCPQueryHandler(engine: engine, transfers: responder, observer: nil, clock: { 1_800_000_000 }),
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 53)).wait()
        let axfr = TransferFixture.request(.axfr, id: 1)
        let soa = EngineFixture.query("1bz", .soa, id: 2)
        try channel.writeInbound(ByteBuffer(bytes: Self.framed(axfr) + Self.framed(soa)))

        // First turn: one batch of messages, no more.
        var received = try frames(channel)
        #expect(received.count == TCPQueryHandler.messagesPerTurn)
        // No reads while sending is not idleness: the idle timer does not cut a transfer.
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        #expect(channel.isActive)
        // Not writable: the next turn sends nothing.
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        loop.run()
        #expect(try frames(channel).isEmpty)
        // Writable again: the rest, turn by turn, then the pipelined answer.
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        for _ in 0..<100 { loop.run() }
        received += try frames(channel)
        let transfer = received.filter { $0.header.id == 1 }
        #expect(received.last?.header.id == 2 && received.last?.answers.first?.type == .soa)
        #expect(received.dropLast().allSatisfy { $0.header.id == 1 })
        let records = transfer.flatMap(\.answers)
        #expect(records.count == 10_000 + 2 + 2)
        #expect(records.first?.type == .soa && records.last?.type == .soa)
        #expect(transfer.count > TCPQueryHandler.messagesPerTurn)
    }

    @Test func aTransferTheClientStopsTakingIsAbandoned() throws {
        let zone = TransferFixture.zone(serial: 5, names: 10_000)
        let responder = TransferFixture.responder(StaticZoneTransferSource(zone: zone))
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(DNSFrameDecoder()), TCPQueryHandler(engine: QueryEngine(zone: zone), transfers: responder),
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 53)).wait()
        channel.isWritable = false
        try channel.writeInbound(ByteBuffer(bytes: Self.framed(TransferFixture.request(.axfr))))
        loop.advanceTime(by: TCPQueryHandler.transferStallTimeout - .seconds(1))
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive, "a stalled transfer holds its connection")
    }

    @Test func refusedTransferIsOneMessage() throws {
        let zone = TransferFixture.zone(serial: 5, names: 10)
        let responder = TransferFixture.responder(StaticZoneTransferSource(zone: zone), acl: TransferACL())
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(DNSFrameDecoder()), TCPQueryHandler(engine: QueryEngine(zone: zone), transfers: responder),
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 53)).wait()
        try channel.writeInbound(ByteBuffer(bytes: Self.framed(TransferFixture.request(.axfr))))
        channel.pipeline.fireChannelReadComplete()
        let answers = try frames(channel)
        #expect(answers.count == 1 && answers.first?.rcode == .refused)
    }
}
