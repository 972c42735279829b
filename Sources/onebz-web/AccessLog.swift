import Foundation
import NIOConcurrencyHelpers
import TOMLConfiguration

/// One line per request in the Combined Log Format (Apache, nginx `combined`):
/// `client - - [07/Dec/2026:00:44:43 +0000] "GET /path HTTP/1.1" 200 1234 "referer" "agent"`.
final class AccessLog: Sendable {
    private let handle: NIOLockedValueBox<FileHandle>

    /// nil or "-": standard output; else appended to the file.
    init(path: String?) throws {
        guard let path, path != "-" else {
            handle = NIOLockedValueBox(FileHandle.standardOutput)
            return
        }
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let file = FileHandle(forWritingAtPath: path) else {
            throw ConfigurationError(key: "access_log", "cannot open \(path) for writing")
        }
        file.seekToEndOfFile()
        handle = NIOLockedValueBox(file)
    }

    struct Entry {
        var client: String
        var method: String
        var target: String
        /// `HTTP/1.1` or `HTTP/2.0`.
        var version: String
        var status: Int
        var bytes: Int
        var referer: String?
        var userAgent: String?
    }

    func write(_ entry: Entry) {
        let line =
            "\(entry.client) - - [\(Self.timestamp())] \"\(Self.quote(entry.method)) \(Self.quote(entry.target)) \(entry.version)\" "
            + "\(entry.status) \(entry.bytes == 0 ? "-" : String(entry.bytes)) "
            + "\"\(Self.quote(entry.referer ?? "-"))\" \"\(Self.quote(entry.userAgent ?? "-"))\"\n"
        handle.withLockedValue { $0.write(Data(line.utf8)) }
    }

    /// Quotes and control characters escaped, so a request cannot forge a log line.
    static func quote(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += String(format: "\\x%02x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%d/%b/%Y:%H:%M:%S +0000", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
