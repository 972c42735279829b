import NIOCore

/// RFC 1035 4.2.2 / RFC 7766: each TCP message is preceded by its two-octet length.
/// Emits one frame per message; several may arrive in one read (pipelining).
struct DNSFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
            let frame = buffer.getSlice(at: buffer.readerIndex + 2, length: Int(length))
        else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2 + Int(length))
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        // A partial message at EOF is discarded: there is no one to answer.
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.clear()
        return .needMoreData
    }
}
