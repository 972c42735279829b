import NIOCore

/// The TCP handler's dynamic-name miss path: resolve off the event loop's hot path,
/// then hand the response to `send` on the channel's event loop (which frames it and
/// counts it).
enum DynamicLookupRunner {
    static func resolve(
        _ pending: PendingLookup, request: ByteBuffer, transport: Transport, engine: QueryEngine,
        channel: any Channel, send: @escaping @Sendable (ByteBuffer) -> Void
    ) {
        channel.eventLoop.makeFutureWithTask {
            await engine.respond(to: request, transport: transport, allocator: channel.allocator, resolving: pending)
        }.whenSuccess { disposition in
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
        guard case .lookup(let pending) = disposition else { return disposition }
        return await respond(to: request, transport: transport, allocator: allocator, resolving: pending)
    }

    /// Answers a request the engine sent to the dynamic source (`.lookup(pending)`):
    /// awaits the source for `pending`, then answers with its result. `.drop` without
    /// a dynamic source.
    public func respond(
        to request: ByteBuffer, transport: Transport, allocator: ByteBufferAllocator, resolving pending: PendingLookup
    ) async -> Disposition {
        guard let source = dynamicSource else { return .drop }
        let resolved = await source.resolve(name: pending.name, type: pending.type)
        return respond(to: request, transport: transport, allocator: allocator, resolved: resolved)
    }
}
