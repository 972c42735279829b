import NIOCore
import NIOHTTP1

/// One HTTP request to the registry, independent of the client that sends it.
struct RegistryRequest: Sendable {
    var method: HTTPMethod = .GET
    var url: String
    /// A JSON body (`Content-Type: application/json`), or none.
    var body: ByteBuffer? = nil
}
