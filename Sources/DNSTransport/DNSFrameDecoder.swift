import NIOCore

/// RFC 1035 4.2.2 / RFC 7766: each TCP message is preceded by its two-octet length.
/// Emits one frame per message; several may arrive in one read (pipelining).
///
/// With a `frameTimeout`, a message must arrive whole within that time of its first
/// byte, else the connection is closed (as Knot's tcp-io-timeout): the idle timer is
/// reset by every read, so a client trickling one byte per second (slowloris) would
/// otherwise hold a connection slot for ever.
struct DNSFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    private let frameTimeout: TimeAmount?
    private var deadline: Scheduled<Void>?

    init(frameTimeout: TimeAmount? = nil) { self.frameTimeout = frameTimeout }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
            let frame = buffer.getSlice(at: buffer.readerIndex + 2, length: Int(length))
        else {
            if buffer.readableBytes > 0 { armDeadline(context: context) }
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: 2 + Int(length))
        deadline?.cancel()
        deadline = nil
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        // A partial message at EOF is discarded: there is no one to answer.
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.clear()
        deadline?.cancel()
        deadline = nil
        return .needMoreData
    }

    private mutating func armDeadline(context: ChannelHandlerContext) {
        guard deadline == nil, let frameTimeout else { return }
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: frameTimeout) { channel.close(promise: nil) }
    }
}
