import NodeRegistry
import Synchronization

/// Public keys of nodes with a record, by node id. Correct without invalidation: a node
/// id is the SHA-256 of its key's PEM, so the key of an id never changes (a record with
/// another key is refused as `key_mismatch`). Bounded: when full it starts again empty
/// (a miss costs one read of the stored record).
final class KeyCache: Sendable {
    private let keys = Mutex<[String: Ed25519PublicKey]>([:])
    let capacity: Int

    init(capacity: Int = 200_000) { self.capacity = capacity }

    subscript(nodeID: String) -> Ed25519PublicKey? { keys.withLock { $0[nodeID] } }

    func insert(_ nodeID: String, _ key: Ed25519PublicKey) {
        keys.withLock { keys in
            if keys.count >= capacity { keys.removeAll(keepingCapacity: true) }
            keys[nodeID] = key
        }
    }
}
