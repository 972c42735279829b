import NIOCore

extension QueryEngine {
    /// Answers one request in an async context (the HTTP gateway): when the name needs
    /// the dynamic source, awaits it and answers with its result. Nil when the request
    /// gets no answer (not a query).
    public func respondResolving(
        to request: ByteBuffer, transport: Transport, allocator: ByteBufferAllocator, context: QueryContext = .none
    ) async -> DNSResponse? {
        var disposition = respond(to: request, transport: transport, allocator: allocator, context: context)
        if case .lookup(let pending) = disposition {
            disposition = respond(
                to: request, transport: transport, allocator: allocator, context: context,
                resolved: await resolve(pending))
        }
        guard case .response(let response) = disposition else { return nil }
        return response
    }

    /// Resolves a name the engine sent to the dynamic source (`.lookup(pending)`); the
    /// transport then answers with `respond(...resolved:)`. SERVFAIL without a source.
    public func resolve(_ pending: PendingLookup) async -> DynamicAnswer {
        guard let dynamicSource else { return .serverFailure }
        return await dynamicSource.resolve(name: pending.name, type: pending.type)
    }
}
