import DNSWire

/// An immutable open-addressing hash table from names to small integers, looked up
/// straight from request bytes (no `Name` or array allocated per query). Keys are
/// stored lowercased; lookups fold ASCII case while hashing and comparing.
package struct NameTable: Sendable {
    private let keyBytes: [UInt8]
    private let keyRanges: [Range<Int>]
    private let slots: [Int32]
    private let mask: Int

    package init(_ names: [Name]) {
        var keyBytes: [UInt8] = []
        var keyRanges: [Range<Int>] = []
        for name in names {
            let start = keyBytes.count
            keyBytes += name.lowercased.wire
            keyRanges.append(start..<keyBytes.count)
        }
        var capacity = 16
        while capacity < names.count * 2 { capacity *= 2 }
        var slots = [Int32](repeating: -1, count: capacity)
        keyBytes.withUnsafeBytes { raw in
            for (index, range) in keyRanges.enumerated() {
                var slot = Self.hash(UnsafeRawBufferPointer(rebasing: raw[range])) & (capacity - 1)
                while slots[slot] >= 0 { slot = (slot + 1) & (capacity - 1) }
                slots[slot] = Int32(index)
            }
        }
        self.keyBytes = keyBytes
        self.keyRanges = keyRanges
        self.slots = slots
        self.mask = capacity - 1
    }

    /// FNV-1a over the lowercased bytes.
    @inline(__always)
    private static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash = (hash ^ UInt64(asciiLower(byte))) &* 0x100_0000_01b3
        }
        return Int(truncatingIfNeeded: hash ^ (hash >> 32))
    }

    /// The index of the name whose uncompressed wire form is `key`, if present.
    package func index(of key: UnsafeRawBufferPointer) -> Int? {
        var slot = Self.hash(key) & mask
        return keyBytes.withUnsafeBytes { stored in
            while true {
                let entry = Int(slots[slot])
                if entry < 0 { return nil }
                let range = keyRanges[entry]
                if range.count == key.count {
                    var equal = true
                    var i = 0
                    var j = range.lowerBound
                    while i < key.count {
                        if asciiLower(key[i]) != stored[j] {
                            equal = false
                            break
                        }
                        i += 1
                        j += 1
                    }
                    if equal { return entry }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    package func index(of name: Name) -> Int? {
        name.wire.withUnsafeBytes { index(of: $0) }
    }
}
