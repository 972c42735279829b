import ChainReader
import Foundation
import NIOConcurrencyHelpers
import NodeRegistry

/// The highest metadata `seq` seen per node, so an older signed record cannot come back
/// (docs/robustness.md, "A compromised registry"). A node's record is signed with its
/// seq but carries no issue time: without this, a registry (or anyone on the path of an
/// `http://` registry URL) could serve last year's record, with last year's addresses,
/// and it would verify. A record below the floor is rejected, as a bad signature is.
///
/// Kept in memory and, with a file (`[registry] seq_file`), appended to it on every
/// raise and read back at start, so a restart does not forget (a line per raise:
/// `<nodeHash hex> <seq>`; the highest per node wins when read; a torn last line is
/// ignored; the file is compacted to one line per node at start).
package final class RecordSequence: Sendable {
    /// Keyed by the hash held inline (no heap block per node: ~40 MiB less at 1M nodes).
    private typealias Key = MaterializedNames.HashKey

    private struct State {
        var highest: [Key: UInt64] = [:]
        var file: FileHandle?
    }

    private let state: NIOLockedValueBox<State>

    /// In memory only.
    package init() { state = NIOLockedValueBox(State()) }

    /// Backed by `path` (created when missing). Read as bytes, a line at a time (1M nodes,
    /// ~75 MB: about half a second; parsed as `String`s it took 6-11 s of a 1M restart).
    package init(path: String) throws {
        let data = FileManager.default.contents(atPath: path) ?? Data()
        let read = data.withUnsafeBytes { Self.parse($0) }
        // Compacted to one line per node when the file holds more (raises since the last
        // start, a torn or foreign line, a last line without its newline): written beside,
        // fsynced and renamed over the old file (a crash leaves one of the two whole).
        // A file that is compact already is left alone.
        if read.lines != read.highest.count || read.rejected > 0 || (data.last.map { $0 != UInt8(ascii: "\n") } ?? false) {
            try Self.write(read.highest, to: path)
        }
        guard let handle = FileHandle(forWritingAtPath: path) ?? Self.created(path) else {
            throw RecordSequenceError(path: path, reason: "cannot open the file for writing")
        }
        handle.seekToEndOfFile()
        state = NIOLockedValueBox(State(highest: read.highest, file: handle))
    }

    /// How many nodes have a floor.
    package var count: Int { state.withLockedValue { $0.highest.count } }

    private static func created(_ path: String) -> FileHandle? {
        FileManager.default.createFile(atPath: path, contents: nil) ? FileHandle(forWritingAtPath: path) : nil
    }

    /// The highest seq per node in `bytes` (`<0x + 64 hex digits> <decimal seq>` per
    /// line, any case, spaces around the fields allowed); lines that are not that are
    /// counted in `rejected` and skipped.
    private static func parse(_ bytes: UnsafeRawBufferPointer) -> (highest: [Key: UInt64], lines: Int, rejected: Int) {
        var highest: [Key: UInt64] = [:]
        highest.reserveCapacity(bytes.count / 78)
        var lines = 0
        var rejected = 0
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            if end > start {
                lines += 1
                if let (key, seq) = parseLine(UnsafeRawBufferPointer(rebasing: bytes[start..<end])) {
                    // One hash lookup for a node's first line (nearly every line).
                    if let earlier = highest.updateValue(seq, forKey: key), earlier > seq { highest[key] = earlier }
                } else {
                    rejected += 1
                }
            }
            start = end + 1
        }
        return (highest, lines, rejected)
    }

    private static func parseLine(_ line: UnsafeRawBufferPointer) -> (Key, UInt64)? {
        var at = afterSpaces(line, 0)
        if at + 1 < line.count, line[at] == UInt8(ascii: "0"), line[at + 1] | 0x20 == UInt8(ascii: "x") { at += 2 }
        guard line.count - at >= 64, let w0 = hexWord(line, at), let w1 = hexWord(line, at + 16),
            let w2 = hexWord(line, at + 32), let w3 = hexWord(line, at + 48)
        else { return nil }
        at += 64
        guard at < line.count, line[at] == UInt8(ascii: " ") else { return nil }
        at = afterSpaces(line, at)
        var seq: UInt64 = 0
        var digits = 0
        while at < line.count, line[at] >= UInt8(ascii: "0"), line[at] <= UInt8(ascii: "9") {
            let (times10, overflow1) = seq.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(line[at] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            seq = sum
            digits += 1
            at += 1
        }
        guard digits > 0, afterSpaces(line, at) == line.count else { return nil }
        return (Key(words: (w0, w1, w2, w3)), seq)
    }

    private static func afterSpaces(_ line: UnsafeRawBufferPointer, _ start: Int) -> Int {
        var at = start
        while at < line.count, line[at] == UInt8(ascii: " ") { at += 1 }
        return at
    }

    /// The 16 hex digits at `at` (the caller checked they are there) as one word.
    private static func hexWord(_ line: UnsafeRawBufferPointer, _ at: Int) -> UInt64? {
        var word: UInt64 = 0
        for index in at..<at + 16 {
            guard let nibble = Hex.nibble(line[index]) else { return nil }
            word = word << 4 | UInt64(nibble)
        }
        return word
    }

    /// One line per node, replacing `path` crash-safely (`DurableFile`).
    private static func write(_ highest: [Key: UInt64], to path: String) throws {
        var text: [UInt8] = []
        text.reserveCapacity(highest.count * 88)
        for (key, seq) in highest {
            text.append(contentsOf: "0x".utf8)
            for word in [key.w0, key.w1, key.w2, key.w3] {
                for shift in stride(from: 60, through: 0, by: -4) {
                    text.append(Hex.digits[Int((word >> UInt64(shift)) & 0xF)])
                }
            }
            text.append(UInt8(ascii: " "))
            text.append(contentsOf: String(seq).utf8)
            text.append(UInt8(ascii: "\n"))
        }
        if let failure = DurableFile.replace(path, contents: text) {
            throw RecordSequenceError(path: path, reason: failure)
        }
    }

    /// Takes `seq` for `node` when it is at least the highest seen (raising the floor);
    /// otherwise returns the floor it is below (a replay).
    package func admit(_ node: NodeHash, seq: UInt64) -> UInt64? {
        let key = Key(node)
        return state.withLockedValue { state in
            let floor = state.highest[key] ?? 0
            guard seq >= floor else { return floor }
            if seq > floor || state.highest[key] == nil {
                state.highest[key] = seq
                state.file?.write(Data("\(node.hex) \(seq)\n".utf8))
            }
            return nil
        }
    }

    package func highest(_ node: NodeHash) -> UInt64? {
        let key = Key(node)
        return state.withLockedValue { $0.highest[key] }
    }
}

package struct RecordSequenceError: Error, CustomStringConvertible {
    package let path: String
    package let reason: String
    package var description: String { "\(path): \(reason)" }
}
