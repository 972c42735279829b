import DNSEngine
import NIOConcurrencyHelpers
import NIOCore

/// The shared, mutable part of `/resolve`: the per-client rate limiter and the proof
/// bundle cache, each a pure value behind a lock, with the clock they are given.
final class ResolveGuard: Sendable {
    private let limiter: NIOLockedValueBox<ClientRateLimiter>
    private let proofs = NIOLockedValueBox(ProofBundleCache())
    private let now: @Sendable () -> UInt64

    init(settings: GatewaySettings, now: @escaping @Sendable () -> UInt64) {
        limiter = NIOLockedValueBox(
            ClientRateLimiter(configuration: .init(rate: settings.resolveRate, burst: max(1, settings.resolveBurst))))
        self.now = now
    }

    /// Whether `peer` may make another request now (an unknown peer is not limited:
    /// Unix sockets, tests without sockets).
    func admit(_ peer: SocketAddress?) -> ClientRateLimiter.Decision {
        guard let client = peer.flatMap(ClientAddress.init) else { return .allow }
        let at = now()
        return limiter.withLockedValue { $0.decide(client, nanoseconds: at) }
    }

    func proofBundle(name: String, block: UInt64) -> [UInt8]? {
        let at = now()
        return proofs.withLockedValue { $0.bundle(.init(name: name, block: block), now: at) }
    }

    func storeProofBundle(_ bundle: [UInt8], name: String, block: UInt64) {
        let at = now()
        proofs.withLockedValue { $0.store(bundle, for: .init(name: name, block: block), now: at) }
    }
}
