import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// A TLS listener's certificate and key that can be replaced while it runs: every new
/// handshake takes the pair current when it starts (NIOSSL's per-handshake context
/// callback), connections already open keep theirs. `reload()` takes a new pair only if
/// it loads and the key belongs to the certificate; otherwise the old pair stays.
public final class ReloadableTLSFiles: Sendable {
    public let files: TLSFiles
    private let current: NIOLockedValueBox<Loaded>
    /// The files' identities when `reloadIfChanged` last looked.
    private let seen: NIOLockedValueBox<[FileStamp?]>

    /// One loaded pair.
    private struct Loaded: Sendable {
        var override: NIOSSLContextConfigurationOverride
        var leafDER: [UInt8]
    }

    struct FileStamp: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: timespec

        static func == (a: Self, b: Self) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size && a.modified.tv_sec == b.modified.tv_sec
                && a.modified.tv_nsec == b.modified.tv_nsec
        }

        /// Follows symbolic links (certbot's `live/` names are links into `archive/`).
        static func of(_ path: String) -> FileStamp? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return FileStamp(
                device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: info.st_mtim)
        }
    }

    public init(files: TLSFiles) throws(TLSFilesError) {
        self.files = files
        // Identities first: a file replaced while being read is read again on the next check.
        seen = NIOLockedValueBox([files.certificateChain, files.privateKey].map(FileStamp.of))
        current = NIOLockedValueBox(try Self.load(files))
    }

    /// The current leaf certificate, DER (for a fingerprint in the log).
    public var leafCertificateDER: [UInt8] { current.withLockedValue { $0.leafDER } }

    /// The server configuration: the pair loaded now, and each handshake takes the current one.
    public func serverConfiguration() -> TLSConfiguration {
        let initial = current.withLockedValue { $0.override }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: initial.certificateChain ?? [], privateKey: initial.privateKey!)
        configuration.sslContextCallback = { [current] _, promise in
            promise.succeed(current.withLockedValue { $0.override })
        }
        return configuration
    }

    /// Re-reads the files; true if the certificate changed. Throws (keeping the old pair) when the
    /// new files cannot be used.
    @discardableResult
    public func reload() throws(TLSFilesError) -> Bool {
        let loaded = try Self.load(files)
        return current.withLockedValue { current in
            let changed = current.leafDER != loaded.leafDER
            current = loaded
            return changed
        }
    }

    /// `reload()` only when a file's identity (inode, size, modification time) differs from
    /// when it was last looked at; false when nothing changed. A bad new pair throws once,
    /// then is not read again until the files change again.
    public func reloadIfChanged() throws(TLSFilesError) -> Bool {
        let stamps = [files.certificateChain, files.privateKey].map(FileStamp.of)
        let unchanged = seen.withLockedValue { seen in
            defer { seen = stamps }
            return seen == stamps
        }
        return unchanged ? false : try reload()
    }

    private static func load(_ files: TLSFiles) throws(TLSFilesError) -> Loaded {
        let (chain, key) = try files.load()
        // A key that is not the certificate's fails here (BoringSSL checks the pair), not at
        // the next handshake.
        do {
            _ = try NIOSSLContext(
                configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        } catch {
            throw TLSFilesError(file: files.privateKey, problem: "not the key of the certificate in \(files.certificateChain) (\(error))")
        }
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = chain.map { .certificate($0) }
        override.privateKey = .privateKey(key)
        return Loaded(override: override, leafDER: (try? chain[0].toDERBytes()) ?? [])
    }
}
