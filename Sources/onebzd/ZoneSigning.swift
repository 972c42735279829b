import DNSEngine
import DNSSEC
import DNSWire
import Foundation
import Logging
import NIOConcurrencyHelpers
import OneBZResolver
import ServiceLifecycle

/// The zone's DNSSEC keys as onebzd uses them: read from the key directory (a key is
/// generated there when it has none, as Knot's automatic key management does), turned
/// into a signer per their timing metadata, and re-read every `check_interval` so a key
/// published or retired by its timing (pre-publication rollover) takes effect.
final class ZoneSigning: Sendable {
    let settings: ServerConfiguration.DNSSEC
    let zone: Name
    private let current: NIOLockedValueBox<ZoneSigner?>

    /// Loads (or creates) the keys; errors name the key file or directory.
    init(settings: ServerConfiguration.DNSSEC, zone: Name, logger: Logger) throws(DNSSECError) {
        self.settings = settings
        self.zone = zone
        var files = try BINDKeyFile.load(directory: settings.keyDir, zone: zone)
        if files.isEmpty {
            let algorithm = DNSSECAlgorithm(text: settings.algorithm) ?? .ecdsaP256SHA256
            let file = BINDKeyFile(zone: zone, key: try SigningKey.generate(algorithm: algorithm), created: Self.now())
            try file.write(to: settings.keyDir)
            logger.notice(
                "dnssec: generated a key", metadata: ["key": "\(file.baseName)", "dir": "\(settings.keyDir)"])
            files = [file]
        }
        let signer = Self.signer(files, zone: zone, settings: settings, now: Self.now())
        guard signer != nil else { throw DNSSECError("\(settings.keyDir): no key of \(zone) is active now") }
        current = NIOLockedValueBox(signer)
    }

    var signer: ZoneSigner? { current.withLockedValue { $0 } }

    static func now() -> UInt32 { UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince1970)) }

    static func signer(
        _ files: [BINDKeyFile], zone: Name, settings: ServerConfiguration.DNSSEC, now: UInt32
    ) -> ZoneSigner? {
        func timing(_ validity: Duration) -> ZoneSigner.Timing {
            let seconds = UInt32(clamping: validity.components.seconds)
            return ZoneSigner.Timing(
                validity: seconds, refresh: settings.refresh.map { UInt32(clamping: $0.components.seconds) })
        }
        return KeySet.signer(
            files: files, zone: zone, now: now, staticTiming: timing(settings.signatureValidity),
            dynamicTiming: timing(settings.dynamicSignatureValidity))
    }

    var policy: KeyRollover.Policy {
        func seconds(_ duration: Duration) -> UInt32 { UInt32(clamping: duration.components.seconds) }
        return KeyRollover.Policy(
            prepublish: seconds(settings.prepublish), parentDSTTL: seconds(settings.parentDSTTL),
            keyLifetime: settings.keyLifetime.map(seconds), dsSeenDelay: settings.dsSeenDelay.map(seconds))
    }

    /// Re-reads the keys (after the rollover timers' step, which may write key files);
    /// returns the new signer when the published, active or CDS set changed (nil:
    /// unchanged, or the directory is unreadable: keep signing).
    func reload(now: UInt32, logger: Logger) -> ZoneSigner? {
        var files: [BINDKeyFile]
        do {
            files = try BINDKeyFile.load(directory: settings.keyDir, zone: zone)
            let changed = try KeyRollover.step(files, zone: zone, now: now, policy: policy)
            for file in changed {
                try file.write(to: settings.keyDir)
                logger.notice(
                    "dnssec: rollover step",
                    metadata: ["key": "\(file.baseName)", "state": "\(KeyRollover.state(of: file, in: files, at: now).rawValue)"])
            }
            if !changed.isEmpty { files = try BINDKeyFile.load(directory: settings.keyDir, zone: zone) }
        } catch {
            logger.error("dnssec: cannot re-read the keys, keeping the current ones", metadata: ["error": "\(error)"])
            return nil
        }
        guard let next = Self.signer(files, zone: zone, settings: settings, now: now) else {
            logger.error("dnssec: no key is active now, keeping the current ones")
            return nil
        }
        return current.withLockedValue { signer in
            let tags = { (s: ZoneSigner?) in
                [s?.keys ?? [], s?.activeKeys ?? [], s?.syncKeys ?? []].map { $0.map(\.keyTag) }
            }
            guard tags(signer) != tags(next) else { return nil }
            signer = next
            return next
        }
    }
}

/// Keeps the static zone's signatures fresh: re-signs when the keys change or the
/// signatures reach their refresh time (the dynamic answers carry their own expiry).
struct SigningService: Service {
    let signing: ZoneSigning
    let engine: QueryEngine
    /// The zone transfers serve (signed with NSEC3): renewed here when nothing else
    /// changes it for a refresh window.
    var transfers: MaterializedZone? = nil
    let logger: Logger

    func run() async throws {
        // Ends on graceful shutdown (SIGTERM) as on cancellation: nothing to flush.
        await cancelWhenGracefulShutdown { await loop() }
    }

    private func loop() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: signing.settings.checkInterval) } catch { return }
            let now = ZoneSigning.now()
            if let signer = signing.reload(now: now, logger: logger) {
                logger.notice(
                    "dnssec: keys changed, re-signing",
                    metadata: ["dnskey": "\(signer.keys.map(\.keyTag))", "active": "\(signer.activeKeys.map(\.keyTag))"])
                engine.resign(with: signer, unixTime: now)
                logFailure()
            } else if let refresh = engine.signatureRefreshTime, now >= refresh {
                logger.info("dnssec: renewing the zone's signatures")
                engine.resign(with: signing.signer, unixTime: now)
                logFailure()
            }
            transfers?.renewSignaturesIfDue()
        }
    }

    /// A signing failure answers DO=1 queries SERVFAIL (EDE 0) until the next re-sign.
    private func logFailure() {
        if let reason = engine.signingFailureReason {
            logger.error("dnssec: signing the zone failed; DO=1 queries get SERVFAIL", metadata: ["error": "\(reason)"])
        }
    }
}
