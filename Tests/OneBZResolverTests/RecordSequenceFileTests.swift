import ChainReader
import Foundation
import NodeRegistry
import OneBZResolver
import Testing

/// `[registry] seq_file` as onebzd reads it at start: the highest seq per node wins,
/// lines that are not `<hash> <seq>` are skipped, and the file is compacted only when it
/// holds more than one line per node.
@Suite struct RecordSequenceFileTests {
    private static func hash(_ byte: UInt8) -> NodeHash { NodeHash(unchecked: (0..<32).map { UInt8($0) &+ byte }) }

    private static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("seq-\(UUID())").path
    }

    private static func inode(_ path: String) throws -> UInt64 {
        try #require((FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? NSNumber)?.uint64Value)
    }

    @Test func theHighestSeqPerNodeWinsAndStrayLinesAreSkipped() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (a, b, c) = (Self.hash(1), Self.hash(2), Self.hash(3))
        let lines = [
            "\(a.hex) 5",
            "\(b.hex) 9",
            "\(a.hex) 7",
            "\(a.hex) 6",  // lower than the 7 before it: the 7 stays
            String(b.hex.dropFirst(2)).uppercased() + "  12 ",  // no 0x, upper case, extra spaces
            "\(c.hex) 18446744073709551616",  // one past UInt64.max: not a seq
            "\(c.hex)",  // no seq
            "not a line at all",
            "\(c.hex) 3",
            "\(c.hex) 4",  // torn: the writer died before the newline
        ]
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))

        let sequence = try RecordSequence(path: path)
        #expect(sequence.highest(a) == 7)
        #expect(sequence.highest(b) == 12)
        #expect(sequence.highest(c) == 4)
        #expect(sequence.count == 3)
        // Compacted: one line per node, each as onebzd writes it.
        let compacted = try String(contentsOfFile: path, encoding: .utf8)
        #expect(compacted.hasSuffix("\n"))
        #expect(Set(compacted.split(separator: "\n")) == ["\(a.hex) 7", "\(b.hex) 12", "\(c.hex) 4"])
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))

        // A raise is appended after the compacted lines and read back at the next start.
        #expect(sequence.admit(a, seq: 8) == nil)
        #expect(sequence.admit(b, seq: 11) == 12, "below the floor: a replay")
        let restarted = try RecordSequence(path: path)
        #expect(restarted.highest(a) == 8)
        #expect(restarted.highest(b) == 12)
    }

    @Test func aCompactFileIsReadWithoutRewritingIt() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try RecordSequence(path: path)  // created
        for byte in UInt8(1)...50 { #expect(first.admit(Self.hash(byte), seq: UInt64(byte) * 3) == nil) }
        let before = try Self.inode(path)
        let contents = try Data(contentsOf: URL(fileURLWithPath: path))

        let again = try RecordSequence(path: path)
        #expect(again.count == 50)
        #expect(again.highest(Self.hash(50)) == 150)
        #expect(try Self.inode(path) == before, "a file with one line per node is not renamed over")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == contents)
    }

    @Test func anEmptyOrMissingFileHoldsNoFloors() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try RecordSequence(path: path).count == 0)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try RecordSequence(path: path).count == 0)
    }
}
