import Crypto
import Foundation
import HTTPServerGuard
import Logging
import ServiceLifecycle
import UnixSignals

/// Re-reads `tls_cert`/`tls_key` on SIGHUP and when the files change (checked every
/// `interval`): new handshakes get the new certificate, open connections keep theirs. A
/// pair that cannot be used is logged and the old one kept.
struct CertificateReloader: Service {
    let certificate: ReloadableTLSFiles
    /// Trapped before the listener starts, so an early SIGHUP does not end the process.
    let hangups: UnixSignalsSequence
    let interval: Duration
    let logger: Logger

    func run() async throws {
        logger.info("certificate", metadata: ["sha256": "\(fingerprint)", "file": "\(certificate.files.certificateChain)"])
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in hangups.cancelOnGracefulShutdown() {
                    logger.notice("SIGHUP: re-reading the certificate")
                    check { () throws(TLSFilesError) in try certificate.reload() }
                }
            }
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    do { try await Task.sleep(for: interval) } catch { return }
                    check { () throws(TLSFilesError) in try certificate.reloadIfChanged() }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    private func check(_ reload: () throws(TLSFilesError) -> Bool) {
        do {
            if try reload() {
                logger.notice("certificate reloaded: new handshakes use it", metadata: ["sha256": "\(fingerprint)"])
            }
        } catch {
            logger.error(
                "certificate not reloaded, the old one stays in use",
                metadata: ["error": "\(error)", "sha256": "\(fingerprint)"])
        }
    }

    private var fingerprint: String {
        SHA256.hash(data: certificate.leafCertificateDER).map { String(format: "%02x", $0) }.joined()
    }
}
