import Dispatch
import Foundation
import Testing

@testable import OneBZResolver

/// The lock-free name index behind authoritative absence: never a false "absent".
@Suite struct NameFingerprintsTests {
    @Test func holdsWhatWasInsertedAndNothingElse() {
        let index = NameFingerprints(shardBits: 4)
        #expect(!index.contains(42))
        index.insert([42, 7, 42, UInt64.max, 0])
        for key: UInt64 in [42, 7, UInt64.max, 0] { #expect(index.contains(key)) }
        for key: UInt64 in [1, 41, 43, UInt64.max - 1] { #expect(!index.contains(key)) }
        #expect(index.count == 4, "duplicates are held once")
        index.insert([])
        #expect(index.count == 4)
        index.remove([7, 1])
        #expect(!index.contains(7) && index.contains(42) && index.count == 3)
    }

    @Test func twoHundredThousandKeysAreAllFoundAndOthersAreNot() {
        var generator = SystemRandomNumberGenerator()
        let keys = (0..<200_000).map { _ in UInt64.random(in: 0...UInt64.max, using: &generator) }
        let index = NameFingerprints()
        // In batches, as the follower delivers them (the history first, then blocks).
        index.insert(Array(keys[0..<180_000]))
        for start in stride(from: 180_000, to: 200_000, by: 2_000) { index.insert(Array(keys[start..<start + 2_000])) }
        #expect(keys.allSatisfy(index.contains))
        let held = Set(keys)
        let others = (0..<50_000).map { _ in UInt64.random(in: 0...UInt64.max, using: &generator) }.filter { !held.contains($0) }
        #expect(!others.contains(where: index.contains))
        #expect(index.approximateBytes < 10 * 200_000 + 64 * 1024, "about 8 bytes a key: \(index.approximateBytes)")
    }

    @Test func readersSeeEveryKeyOnceInsertedWhileAWriterAdds() async {
        let index = NameFingerprints(shardBits: 6)
        let inserted = (1...20_000).map { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for start in stride(from: 0, to: inserted.count, by: 100) { index.insert(Array(inserted[start..<start + 100])) }
                return true
            }
            for _ in 0..<3 {
                group.addTask {
                    // A key seen once stays seen (snapshots only grow).
                    var seen = Set<UInt64>()
                    for _ in 0..<50 {
                        for key in inserted.prefix(2_000) {
                            if index.contains(key) { seen.insert(key) } else if seen.contains(key) { return false }
                        }
                    }
                    return true
                }
            }
            for await ok in group { #expect(ok) }
        }
        #expect(inserted.allSatisfy(index.contains))
    }
}
