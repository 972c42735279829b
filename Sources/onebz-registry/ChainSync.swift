import ChainReader
import Foundation
import Logging
import NodeRegistry
import ServiceLifecycle

/// Keeps the registry's view of the chain fresh. ChainReader's EventFollower calls
/// `handle(_:)` for each contract event: the node's state is re-read with `nodes(nodeHash)`
/// and its trust recomputed at once. As a backstop (and because uptime decays with time),
/// `run()` sweeps every stored node each `sweepInterval`. Changes land in the change feed.
struct ChainSync: Service {
    let store: Store
    let chain: any ChainNodeSource
    let sweepInterval: Duration
    let logger: Logger
    let clock: @Sendable () -> Int64

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sweep()
                try await Task.sleep(for: sweepInterval)
            }
        }
    }

    /// Events are hints: re-read the node rather than apply deltas, so replays after a
    /// reorg are harmless.
    func handle(_ event: FollowerEvent) async {
        switch event {
        case .registered, .verified, .stakeAdded, .trustUpdated:
            guard let hash = event.nodeHash else { return }
            do { try await refresh(hash) } catch {
                logger.warning("cannot refresh node after event", metadata: ["nodeHash": "\(hash)", "error": "\(error)"])
            }
        case .reorg(let block):
            logger.info("chain reorg: re-reading every node", metadata: ["fromBlock": "\(block)"])
            await sweep()
        case .synced:
            break
        }
    }

    func sweep() async {
        do {
            for hash in try await store.nodeHashes() { try await refresh(hash) }
            _ = try await store.recomputeAll(now: clock())
        } catch {
            logger.warning("chain sweep failed", metadata: ["error": "\(error)"])
        }
    }

    func refresh(_ hash: NodeHash) async throws {
        let state = try await chain.node(hash)
        if try await store.updateChain(hash, state, now: clock()) {
            logger.info("trust changed", metadata: ["nodeHash": "\(hash)", "verified": "\(state.verified)"])
        }
    }
}
