import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// HTTPS/1.1 to a registry whose key is pinned, one connection per request (the
/// request is sent only after the handshake, to a server whose certificate's key hashes
/// to the pin). AsyncHTTPClient's pool has no hook to see the peer certificate, hence
/// this small client; without a pin the registry client uses AsyncHTTPClient.
struct PinnedHTTPSClient: Sendable {
    let context: NIOSSLContext
    let pin: SPKIPin
    let group: any EventLoopGroup
    let maxResponseBytes: Int

    func execute(_ request: RegistryRequest, timeout: TimeAmount, maxBytes: Int? = nil) async throws -> RegistryResponse {
        let target = try Target(url: request.url)
        var head = HTTPRequestHead(version: .http1_1, method: request.method, uri: target.pathAndQuery)
        head.headers.add(name: "Host", value: target.hostHeader)
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "Content-Length", value: "\(request.body?.readableBytes ?? 0)")
        if request.body != nil { head.headers.add(name: "Content-Type", value: "application/json") }

        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: RegistryResponse.self)
        let (context, sni, pin, body, limit) = (self.context, target.serverName, self.pin, request.body, maxBytes ?? maxResponseBytes)
        let requestHead = head
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: sni))
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(
                        PinnedExchangeHandler(
                            request: requestHead, body: body, pin: pin, maxResponseBytes: limit, promise: promise))
                }
            }
        let deadline = eventLoop.scheduleTask(in: timeout) { promise.fail(PinnedHTTPSError.timeout) }
        defer { deadline.cancel() }
        let channel: any Channel
        do { channel = try await bootstrap.connect(host: target.host, port: target.port).get() } catch {
            promise.fail(error)
            throw error
        }
        promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
        return try await promise.futureResult.get()
    }

    /// Where an `https://` URL points.
    struct Target {
        let host: String
        let port: Int
        let pathAndQuery: String
        let hostHeader: String
        /// SNI: the host name, none for an address (RFC 6066 3).
        let serverName: String?

        init(url: String) throws {
            guard let components = URLComponents(string: url), components.scheme?.lowercased() == "https",
                var host = components.host, !host.isEmpty
            else { throw PinnedHTTPSError.protocolError("\(url) is not an https:// URL") }
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            self.host = host
            port = components.port ?? 443
            let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
            pathAndQuery = path + (components.percentEncodedQuery.map { "?\($0)" } ?? "")
            let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
            let bracketed = host.contains(":") ? "[\(host)]" : host
            hostHeader = components.port.map { "\(bracketed):\($0)" } ?? bracketed
            serverName = isAddress ? nil : host
        }
    }
}
