import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The last step of replacing a file crash-safely (the zone snapshot, `seq_file`): the
/// new contents, written and fsynced beside the old file, are renamed over it, then the
/// directory is fsynced so the rename itself survives a power loss.
enum DurableRename {
    /// Renames `temporary` over `path` and syncs the directory; nil when done, else
    /// what failed.
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
