import NIOConcurrencyHelpers

/// The hashes of the blocks the follower reported `synced` most recently (the last
/// `capacity`): a zone snapshot taken at block b looks b's hash up here, so the snapshot
/// names the block its contents were read at, not a number alone.
public final class SyncedCheckpoints: Sendable {
    private let recent = NIOLockedValueBox<[ChainCheckpoint]>([])
    private let capacity: Int

    public init(capacity: Int = 64) { self.capacity = max(1, capacity) }

    /// Recorded before the `synced` event reaches the consumer.
    public func record(_ checkpoint: ChainCheckpoint) {
        recent.withLockedValue { list in
            list.removeAll { $0.number >= checkpoint.number }
            list.append(checkpoint)
            if list.count > capacity { list.removeFirst(list.count - capacity) }
        }
    }

    /// The checkpoint at `number`, if it was synced recently.
    public func checkpoint(at number: UInt64) -> ChainCheckpoint? {
        recent.withLockedValue { list in list.last { $0.number == number } }
    }
}
