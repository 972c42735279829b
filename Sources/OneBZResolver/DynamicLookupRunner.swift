import NIOCore

/// The dynamic-name miss path shared by the UDP and TCP handlers: await the source off
/// the event loop's hot path, ask the engine again with the result, hand the response
/// to `send` on the channel's event loop (which frames or addresses it, and counts it).
enum DynamicLookupRunner {
    static func resolve(
        _ pending: PendingLookup, request: ByteBuffer, transport: Transport, engine: QueryEngine,
        channel: any Channel, send: @escaping @Sendable (ByteBuffer) -> Void
    ) {
        guard let source = engine.dynamicSource else { return }
        channel.eventLoop.makeFutureWithTask {
            await source.resolve(name: pending.name, type: pending.type)
        }.whenSuccess { answer in
            let disposition = engine.respond(
                to: request, transport: transport, allocator: channel.allocator, resolved: answer)
            if case .response(let response) = disposition { send(response) }
        }
    }
}
