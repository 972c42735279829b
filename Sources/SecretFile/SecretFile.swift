#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Files that hold secrets (DNSSEC private keys, node identity keys, TSIG keys): created
/// readable by the owner only from the first byte, in directories only the owner can
/// enter, and read only when no one else can read or change them (as OpenSSH does with
/// its keys). Foundation's `createFile(attributes:)` writes the file and only then
/// changes its mode, leaving a moment where a fresh key is world-readable.
public enum SecretFile {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Writes `bytes` to `path`, replacing it atomically: a new file, mode 0600 from its
    /// creation (O_EXCL: nothing planted there is written through), renamed over `path`.
    public static func write(_ path: String, contents bytes: [UInt8]) throws(Failure) {
        let temporary = path + ".tmp-\(getpid())"
        try create(temporary, contents: bytes)
        guard rename(temporary, path) == 0 else {
            let reason = errorText()
            unlink(temporary)
            throw Failure(path: path, reason: "cannot replace: \(reason)")
        }
    }

    public static func write(_ path: String, text: String) throws(Failure) {
        try write(path, contents: Array(text.utf8))
    }

    /// Writes `bytes` to a new file at `path`, mode 0600 at creation.
    private static func create(_ path: String, contents bytes: [UInt8]) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw Failure(path: path, reason: "cannot create: \(errorText())") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                let reason = errorText()
                unlink(path)
                throw Failure(path: path, reason: "cannot write: \(reason)")
            }
            written += count
        }
        guard fsync(fd) == 0 else { throw Failure(path: path, reason: "cannot sync: \(errorText())") }
    }

    /// Creates `path` and missing parents; the last directory is made mode 0700 (an
    /// existing one is left as it is, and must not be open to others for writing).
    public static func createPrivateDirectory(_ path: String) throws(Failure) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw Failure(path: path, reason: "exists and is not a directory") }
            guard info.st_mode & 0o002 == 0 else {
                throw Failure(path: path, reason: "is writable by anyone (chmod o-w, or 700 for key directories)")
            }
            return
        }
        let parent = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !parent.isEmpty, stat(parent, &info) != 0 { try createParents(parent) }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw Failure(path: path, reason: "cannot create the directory: \(errorText())")
        }
    }

    private static func createParents(_ path: String) throws(Failure) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0, errno != EEXIST {
                throw Failure(path: prefix, reason: "cannot create the directory: \(errorText())")
            }
        }
    }

    /// Refuses a secret file that others can read or write (any permission bit for
    /// "other"): the secret may already be known. Nil when the file is fine.
    public static func exposure(of path: String) -> Failure? {
        var info = stat()
        guard stat(path, &info) == 0 else { return Failure(path: path, reason: "cannot read: \(errorText())") }
        let mode = info.st_mode & 0o777
        guard mode & 0o007 == 0 else {
            return Failure(
                path: path,
                reason: "holds a secret but is open to other users (mode \(String(mode, radix: 8))): chmod 600 \(path)")
        }
        return nil
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
