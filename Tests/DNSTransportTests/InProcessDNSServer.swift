import DNSEngine
import DNSTransport
import DNSWire
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing

/// DNSServer in-process on an ephemeral loopback port (UDP and TCP), for the duration
/// of `body`, which gets the port; then graceful shutdown, awaited.
enum InProcessDNSServer {
    static func run(engine: QueryEngine, threads: Int = 2, _ body: (Int) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let (addresses, continuation) = AsyncStream<[SocketAddress]>.makeStream()
        let server = DNSServer(
            engine: engine, configuration: .init(listen: [try SocketAddress(ipAddress: "127.0.0.1", port: 0)]),
            group: group, logger: Logger(label: "test"), onListening: { continuation.yield($0) })
        let services = ServiceGroup(services: [server], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                // A server that fails to start ends the stream: the test fails at once
                // (with the server's error) instead of waiting for its time limit.
                defer { continuation.finish() }
                try await services.run()
            }
            var iterator = addresses.makeAsyncIterator()
            guard let port = await iterator.next()?.first?.port else {
                try await tasks.waitForAll()  // rethrows the server's error
                Issue.record("the server stopped before listening")
                return
            }
            try await body(port)
            await services.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        try await group.shutdownGracefully()
    }

    /// Blocking work (processes, plain sockets) on a Dispatch thread: blocking a
    /// cooperative thread could starve the server's own tasks (one thread per core).
    static func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}
