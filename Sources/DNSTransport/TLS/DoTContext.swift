import NIOConcurrencyHelpers
import NIOSSL

/// The TLS context DNS-over-TLS connections are made with, swapped whole when the
/// certificate files are reloaded (SIGHUP): new connections take the new context, open
/// ones keep the one they were made with, so a reload drops nothing.
public final class DoTContext: Sendable {
    private let current: NIOLockedValueBox<NIOSSLContext>

    public init(_ context: NIOSSLContext) {
        current = NIOLockedValueBox(context)
    }

    /// The context for a connection opening now.
    public var context: NIOSSLContext { current.withLockedValue { $0 } }

    public func replace(with context: NIOSSLContext) {
        current.withLockedValue { $0 = context }
    }
}
