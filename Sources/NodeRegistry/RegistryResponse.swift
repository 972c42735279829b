import NIOCore

/// The registry's answer: status and the whole body (at most `RegistryClient.maxResponseBytes`).
struct RegistryResponse: Sendable {
    var status: Int
    var body: ByteBuffer
}
