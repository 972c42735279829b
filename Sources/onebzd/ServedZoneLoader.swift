import DNSEngine
import DNSSEC
import DNSWire
import Logging
import ServiceLifecycle
import TOMLConfiguration
import ZoneCache
import ZoneTransfer

/// `[[zones]]` made real: each zone file read (the same libldns loader as the main
/// zone), its keys loaded into a signer, its update keys found in the TSIG keyring.
/// Errors name the key (`zones[1].file: ...`).
enum ServedZoneLoader {
    static func load(
        _ settings: ServerConfiguration, mainApex: Name, keys: TSIGKeyring?, now: UInt32
    ) throws(ConfigurationError) -> [ServedZone] {
        var served: [ServedZone] = []
        for (index, entry) in settings.zones.enumerated() {
            let key = "zones[\(index)]"
            // Names inside the main zone are the main zone's (and its fast path's):
            // a zone below it is delegated from its zone file instead.
            guard !entry.origin.isSubdomain(of: mainApex) else {
                throw ConfigurationError(
                    key: "\(key).origin", "\(entry.origin) is inside the main zone \(mainApex): delegate it instead")
            }
            let zone: Zone
            do { zone = try Zone(file: entry.file, apex: entry.origin) } catch {
                throw ConfigurationError(key: "\(key).file", "\(error)")
            }
            let signer = try Self.signer(entry, key: key, settings: settings.dnssec, now: now)
            var updateKeys: [Name] = []
            for (position, name) in entry.updateKeys.enumerated() {
                let parsed = try? Name(name.hasSuffix(".") ? name : name + ".")
                guard let parsed, keys?[parsed] != nil else {
                    throw ConfigurationError(
                        key: "\(key).update_keys[\(position)]", "no key named \"\(name)\" in transfer.tsig_key_files")
                }
                updateKeys.append(parsed)
            }
            served.append(
                ServedZone(
                    zone: zone, signer: signer, now: now, updateKeys: updateKeys,
                    maxChallengeRecords: entry.maxChallengeRecords))
        }
        return served
    }

    /// The zone's signer from its key files (nil: none given, unsigned), with the
    /// signature validity of `[dnssec]`.
    static func signer(
        _ entry: ServerConfiguration.ServedZoneSettings, key: String, settings: ServerConfiguration.DNSSEC, now: UInt32
    ) throws(ConfigurationError) -> ZoneSigner? {
        guard !entry.dnssecKeyFiles.isEmpty else { return nil }
        var files: [BINDKeyFile] = []
        for (position, path) in entry.dnssecKeyFiles.enumerated() {
            let file: BINDKeyFile
            do { file = try BINDKeyFile(path: path) } catch {
                throw ConfigurationError(key: "\(key).dnssec_key_files[\(position)]", "\(error)")
            }
            guard file.zone == entry.origin.lowercased else {
                throw ConfigurationError(
                    key: "\(key).dnssec_key_files[\(position)]",
                    "\(path) is a key of \(file.zone), not of \(entry.origin)")
            }
            files.append(file)
        }
        guard let signer = ZoneSigning.signer(files, zone: entry.origin, settings: settings, now: now) else {
            throw ConfigurationError(key: "\(key).dnssec_key_files", "no key of \(entry.origin) is active now")
        }
        return signer
    }
}

/// Keeps the served zones' signatures fresh: re-signs each when its refresh time comes
/// (their keys are fixed files: no rollover timers, unlike the main zone's).
struct ServedZoneSigningService: Service {
    let zones: [ServedZone]
    let checkInterval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: checkInterval) } catch { return }
                let now = ZoneSigning.now()
                for zone in zones {
                    guard let refresh = zone.signatureRefreshTime, now >= refresh else { continue }
                    logger.info("dnssec: renewing the signatures", metadata: ["zone": "\(zone.origin)"])
                    zone.resign(with: zone.prepared.signed?.signer, now: now)
                }
            }
        }
    }
}
