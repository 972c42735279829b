import Foundation
import Logging
import NodeRegistry
import ServiceLifecycle

/// Keeps the registry's view of the chain fresh: every `interval` it re-reads the on-chain
/// state of each stored node and recomputes all trust scores (uptime decays with time).
/// Changes land in the change feed.
struct ChainSync: Service {
    let store: Store
    let chain: any ChainNodeSource
    let interval: Duration
    let logger: Logger
    let clock: @Sendable () -> Int64

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await syncOnce()
                try await Task.sleep(for: interval)
            }
        }
    }

    func syncOnce() async {
        do {
            for text in try await store.nodeHashes() {
                guard let hash = NodeHash(hex: text) else { continue }
                try await refresh(hash)
            }
            _ = try await store.recomputeAll(now: clock())
        } catch {
            logger.warning("chain sync failed", metadata: ["error": "\(error)"])
        }
    }

    func refresh(_ hash: NodeHash) async throws {
        let state = try await chain.node(hash)
        if try await store.updateChain(hash, state, now: clock()) {
            logger.info("trust changed", metadata: ["nodeHash": "\(hash)", "verified": "\(state.verified)"])
        }
    }
}
