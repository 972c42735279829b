import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Replacing a file crash-safely (the zone snapshot, `seq_file`): the new contents are
/// written to `<path>.tmp` beside the old file and fsynced, renamed over it, then the
/// directory is fsynced so the rename itself survives a power loss. A crash at any
/// moment leaves the old file or the new one whole. Each step returns nil when done,
/// else what failed.
enum DurableFile {
    /// `contents` as the new `path`, every step above; the temporary file is removed on
    /// failure.
    static func replace(_ path: String, contents: [UInt8], mode: mode_t = 0o644) -> String? {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { return "cannot create \(temporary): \(String(cString: strerror(errno)))" }
        var failure = writeAll(fd, contents)
        if failure == nil, fsync(fd) != 0 { failure = "fsync \(temporary): \(String(cString: strerror(errno)))" }
        close(fd)
        if failure == nil { failure = move(temporary, over: path) }
        if failure != nil { unlink(temporary) }
        return failure
    }

    /// All of `bytes` to `fd` (a write interrupted by a signal is retried).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return "write: \(n < 0 ? String(cString: strerror(errno)) : "nothing written")" }
                offset += n
            }
            return nil
        }
    }

    /// Renames `temporary` (written and fsynced) over `path` and syncs the directory.
    static func move(_ temporary: String, over path: String) -> String? {
        guard rename(temporary, path) == 0 else {
            return "rename \(temporary) to \(path): \(String(cString: strerror(errno)))"
        }
        let directory = (path as NSString).deletingLastPathComponent
        let dirfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { return nil }
        defer { close(dirfd) }
        return fsync(dirfd) == 0 ? nil : "fsync \(directory): \(String(cString: strerror(errno)))"
    }
}
