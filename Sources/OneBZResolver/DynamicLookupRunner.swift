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

extension QueryEngine {
    /// Answers one request in an async context (the HTTP gateway): when the name needs
    /// the dynamic source, awaits it and answers again with its result. Never `.lookup`.
    public func respondResolving(
        to request: ByteBuffer, transport: Transport, allocator: ByteBufferAllocator
    ) async -> Disposition {
        let disposition = respond(to: request, transport: transport, allocator: allocator)
        guard case .lookup(let pending) = disposition, let source = dynamicSource else { return disposition }
        let resolved = await source.resolve(name: pending.name, type: pending.type)
        return respond(to: request, transport: transport, allocator: allocator, resolved: resolved)
    }
}
