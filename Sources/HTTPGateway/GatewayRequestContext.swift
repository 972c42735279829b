import Hummingbird
import NIOCore

/// The request context of the gateway's routes: Hummingbird's basics plus the peer's
/// address, which DNS cookies over DoH are bound to (RFC 7873 allows cookies on any
/// transport).
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
