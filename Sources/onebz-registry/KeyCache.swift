import NodeRegistry
import Synchronization

/// Public keys of nodes with a record, by node id. Correct without invalidation: a node
/// id is the SHA-256 of its key's PEM, so the key of an id never changes (a record with
/// another key is refused as `key_mismatch`). Compact (two 32-byte values inline, ~100 B
/// a node with the table's overhead: ~100 MB at a million nodes) and bounded: when full
/// it starts again empty (a miss costs one read and decode of the stored record).
final class KeyCache: Sendable {
    private let keys = Mutex<[Bytes: Bytes]>([:])
    let capacity: Int

    init(capacity: Int = 2_000_000) { self.capacity = capacity }

    subscript(nodeID: NodeID) -> Ed25519PublicKey? {
        keys.withLock { $0[Bytes(nodeID.bytes)] }.flatMap { Ed25519PublicKey(raw: $0.array) }
    }

    func insert(_ nodeID: NodeID, _ key: Ed25519PublicKey) {
        keys.withLock { keys in
            if keys.count >= capacity { keys.removeAll(keepingCapacity: true) }
            keys[Bytes(nodeID.bytes)] = Bytes(key.raw)
        }
    }

    /// 32 bytes stored inline (an array would cost a heap object per value).
    private struct Bytes: Hashable, Sendable {
        var a: UInt64, b: UInt64, c: UInt64, d: UInt64

        init(_ bytes: [UInt8]) {
            func word(_ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 << 8 | UInt64(bytes[i * 8 + $1]) } }
            (a, b, c, d) = (word(0), word(1), word(2), word(3))
        }

        var array: [UInt8] {
            [a, b, c, d].flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (56 - 8 * $0)) } }
        }
    }
}
