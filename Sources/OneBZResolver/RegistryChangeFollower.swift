import Logging
import NodeRegistry
import ServiceLifecycle

/// Polls the registry's change feed (`GET /v1/changes?since=`) and drops the cached
/// answers of every node whose record or trust changed. Starts from the feed's end:
/// the cache is empty at start, so older changes need no action. A registry outage
/// is logged once and retried every interval; the cursor is kept, nothing is missed.
/// When the registry no longer keeps the cursor (410 `resync`: its feed is bounded),
/// every cached answer is dropped, every materialised node re-resolved, and the
/// follower starts again from the feed's end.
package struct RegistryChangeFollower: Service {
    let client: RegistryClient
    let interval: Duration
    let source: DynamicNodeSource
    /// The materialised zone: a changed node is resolved again there too.
    let zone: MaterializedZone?
    let logger: Logger

    package init(
        client: RegistryClient, interval: Duration, source: DynamicNodeSource, zone: MaterializedZone? = nil,
        logger: Logger
    ) {
        self.client = client
        self.interval = interval
        self.source = source
        self.zone = zone
        self.logger = logger
    }

    package func run() async throws {
        var cursor: UInt64? = nil
        var failing = false
        while !Task.isCancelledOrShuttingDown {
            do {
                if let since = cursor {
                    cursor = try await apply(since: since)
                } else {
                    cursor = try await end()
                }
                if failing { logger.info("registry change feed reachable again") }
                failing = false
            } catch let error as RegistryClientError where error.kind == .resync {
                logger.notice("registry change feed skipped past our cursor: full resync", metadata: ["cursor": "\(cursor ?? 0)"])
                // The zone first: a node it holds clean answers from it (not upstream)
                // until it is marked, so it is marked before the cached answers go.
                zone?.registryChangedAll()
                source.invalidateAll()
                cursor = nil
                continue
            } catch {
                if !failing {
                    logger.warning("registry change feed unavailable; retrying", metadata: ["error": "\(error)"])
                }
                failing = true
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }

    /// Applies every change after `since`; returns the new cursor.
    private func apply(since: UInt64) async throws -> UInt64 {
        var cursor = since
        while true {
            let page = try await client.changes(since: cursor)
            for change in page.changes {
                guard let id = NodeID(hex: change.nodeID) else { continue }
                // Marked in the zone before the cache drops it (see above).
                zone?.registryChanged(NodeHash(nodeID: id))
                source.invalidate(nodeHash: NodeHash(nodeID: id))
            }
            if page.next == cursor || page.changes.isEmpty { return page.next }
            cursor = page.next
        }
    }

    /// The feed's current end, without applying anything.
    private func end() async throws -> UInt64 {
        var cursor: UInt64 = 0
        while true {
            let page = try await client.changes(since: cursor)
            if page.next == cursor || page.changes.isEmpty { return page.next }
            cursor = page.next
        }
    }
}

extension Task where Success == Never, Failure == Never {
    fileprivate static var isCancelledOrShuttingDown: Bool { Task.isCancelled || Task.isShuttingDownGracefully }
}
