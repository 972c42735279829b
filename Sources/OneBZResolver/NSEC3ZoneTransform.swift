import DNSEngine
import Foundation
import DNSSEC
import DNSWire
import Logging
import NIOConcurrencyHelpers
import ZoneTransfer

/// DNSSEC for zone transfers (docs/design.md#transfers, docs/dnssec.md): the
/// materialised zone's versions and differences, signed with an NSEC3 chain (RFC 5155,
/// RFC 9276 settings) that `NSEC3ZoneMaintainer` keeps current difference by
/// difference, so secondaries serve validated answers and denials holding no keys.
/// With `[dnssec] denial = "nsec3"` the chain also serves onebzd's own negative
/// answers: every version is published to the engine's `NSEC3DenialChain` (a snapshot,
/// copy on write) as soon as it is signed.
///
/// Keys follow the server's signer: a difference made after the signing keys changed
/// re-signs the zone with the new keys (and publishes the new DNSKEY set) in the same
/// difference. Signatures due for renewal are renewed with the next difference;
/// `isDue` asks for a difference of its own when nothing else changes.
/// A signing failure stops transfers (SERVFAIL) rather than serving an unsigned or
/// half-signed zone, and is logged; the journal restarts (IXFR falls back to AXFR) and
/// the next transfer rebuilds the signed zone from the version it is asked for.
package final class NSEC3ZoneTransform: ZoneTransferTransform {
    private let signer: @Sendable () -> ZoneSigner?
    private let clock: @Sendable () -> UInt32
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    /// Where each signed version is published for the engine's denials (nil: compact denial).
    private let denialChain: NSEC3DenialChain?

    private struct State: Sendable {
        /// The signed zone; nil before `start`, and after a failure.
        var zone: NSEC3ZoneMaintainer?
        /// The serial of the newest version or difference seen: a build of an older
        /// version (one finished in the background after the zone moved on) is dropped.
        var serial: UInt32?
        /// A build runs in the background (`startInBackground`).
        var building = false
        /// Differences made while it runs: signed onto it when it is in.
        var pending: [ZoneDifference] = []
        /// Whether `denialChain` holds a version (to log the changes only).
        var published = false
    }

    package init(
        signer: @escaping @Sendable () -> ZoneSigner?, clock: @escaping @Sendable () -> UInt32,
        logger: Logger = Logger(label: "onebz.zone.nsec3"), denialChain: NSEC3DenialChain? = nil
    ) {
        self.denialChain = denialChain
        self.signer = signer
        self.clock = clock
        self.logger = logger
    }

    package func start(_ version: any ZoneVersion) {
        keep(build(version), serial: version.serial)
    }

    /// `start` on a thread of its own: a zone restored from its snapshot answers at once
    /// (onebzd's answers sign themselves); transfers are refused (SERVFAIL) until the
    /// signed zone is in, and it is built once, not again by each transfer asking
    /// meanwhile. Differences made during the build (their journal steps are unsigned, so
    /// IXFR falls back to AXFR across them) are signed onto it when it is in.
    /// (A `Thread`, not Dispatch's global queues: on Linux those share their width with
    /// Swift's cooperative pool, and this is minutes of CPU at a million names.)
    package func startInBackground(_ version: any ZoneVersion) {
        state.withLockedValue {
            $0.building = true
            $0.pending = []
            $0.serial = version.serial
        }
        let thread = Thread {
            self.finishBackground(self.build(version))
            // The build's copy of every record is gone now (1.3 GB of it at 1M names).
            FreedHeap.returnToKernel(after: "NSEC3 zone build", logger: self.logger)
        }
        thread.name = "onebz-nsec3-build"
        thread.start()
    }

    private func finishBackground(_ built: NSEC3ZoneMaintainer?) {
        let now = clock()
        state.withLockedValue { state in
            defer {
                state.building = false
                state.pending = []
                publish(&state)
            }
            guard var zone = built else { return }
            do {
                // With the build's keys: a key change meanwhile re-signs with the next step.
                for difference in state.pending {
                    guard SerialNumber.of(soa: zone.soa) == SerialNumber.of(soa: difference.oldSOA) else { return }
                    _ = try Self.sign(difference, onto: &zone, signer: zone.signer, now: now)
                }
            } catch {
                logger.error(
                    "zone transfers: signing the differences made during the build failed; rebuilt on the next transfer",
                    metadata: ["error": "\(error)"])
                return
            }
            state.zone = zone
            state.serial = SerialNumber.of(soa: zone.soa)
        }
    }

    /// Stores a built zone unless a difference moved the zone past its serial meanwhile.
    private func keep(_ built: NSEC3ZoneMaintainer?, serial: UInt32) {
        state.withLockedValue { state in
            guard let built else { return }
            if let newest = state.serial, SerialNumber.isLess(serial, newest) { return }
            state.zone = built
            state.serial = serial
            publish(&state)
        }
    }

    /// The signed zone; after a failure, rebuilt from `version` (a difference that does
    /// not start at the rebuilt serial drops it again, so a stale rebuild never serves).
    /// Nil while the first build runs in the background.
    package func version(_ version: any ZoneVersion) -> (any ZoneVersion)? {
        let (signed, building) = state.withLockedValue { ($0.zone?.signedZone, $0.building) }
        if let signed { return signed }
        if building { return nil }
        start(version)
        return state.withLockedValue { $0.zone?.signedZone }
    }

    private func build(_ version: any ZoneVersion) -> NSEC3ZoneMaintainer? {
        guard let signer = signer() else {
            logger.error("zone transfers: DNSSEC is on but no signing key is active; transfers refused until one is")
            return nil
        }
        var records = [version.soa]
        var iterator = version.makeRecordIterator()
        while let record = iterator.next() { records.append(record) }
        do {
            let built = try NSEC3ZoneMaintainer(zone: records, signer: signer, now: clock())
            logger.info(
                "zone transfers: signed zone with NSEC3 chain built",
                metadata: ["serial": "\(version.serial)", "names": "\(built.nameCount)", "bytes": "\(built.storageBytes)"])
            return built
        } catch {
            logger.error("zone transfers: signing the zone failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    package func difference(_ difference: ZoneDifference) -> ZoneDifference? {
        // During a background build the step waits for it (no keys needed now).
        if queuedForBuild(difference) { return nil }
        let now = clock()
        let current = signer()
        return state.withLockedValue { state in
            defer { publish(&state) }
            if state.building {
                state.pending.append(difference)
                return nil
            }
            state.serial = SerialNumber.of(soa: difference.newSOA) ?? state.serial
            guard var zone = state.zone, let current, SerialNumber.of(soa: zone.soa) == SerialNumber.of(soa: difference.oldSOA)
            else {
                state.zone = nil
                return nil
            }
            do {
                let change = try Self.sign(difference, onto: &zone, signer: current, now: now)
                state.zone = zone
                return ZoneDifference(
                    oldSOA: difference.oldSOA, newSOA: difference.newSOA,
                    removed: change.removed.filter { !Self.isApexSOA($0, zone.apex) },
                    added: change.added.filter { !Self.isApexSOA($0, zone.apex) })
            } catch {
                logger.error(
                    "zone transfers: signing a difference failed; transfers refused until the next version",
                    metadata: ["serial": "\(SerialNumber.of(soa: difference.newSOA) ?? 0)", "error": "\(error)"])
                state.zone = nil
                return nil
            }
        }
    }

    /// Hands the signed zone as it is now to the engine's denials (a snapshot: O(1)
    /// here; the maintainer's next change copies its index once, see
    /// docs/performance.md#dnssec), logging when the chain appears or goes.
    private func publish(_ state: inout State) {
        guard let denialChain else { return }
        denialChain.publish(state.zone?.signedZone)
        let now = state.zone != nil
        guard now != state.published else { return }
        state.published = now
        if now {
            logger.notice("dnssec: negative answers proven from the NSEC3 chain (denial = nsec3)")
        } else {
            logger.warning("dnssec: no signed NSEC3 chain; negative answers use compact denial until it is rebuilt")
        }
    }

    private func queuedForBuild(_ difference: ZoneDifference) -> Bool {
        state.withLockedValue { state in
            guard state.building else { return false }
            state.pending.append(difference)
            return true
        }
    }

    /// `difference` signed onto `zone` (re-signed first with `signer`'s keys if they
    /// changed): the signed records removed and added.
    private static func sign(
        _ difference: ZoneDifference, onto zone: inout NSEC3ZoneMaintainer, signer: ZoneSigner, now: UInt32
    ) throws -> SignedZoneChange {
        var change = SignedZoneChange()
        if keyTags(signer) != keyTags(zone.signer) { change = try zone.refresh(now: now, signer: signer) }
        let applied = try zone.apply(removed: difference.removed, added: difference.added, newSOA: difference.newSOA, now: now)
        return combine(change, then: applied)
    }

    package func isDue() -> Bool {
        let now = clock()
        let current = signer()
        return state.withLockedValue { state in
            guard let zone = state.zone else { return false }
            if let current, Self.keyTags(current) != Self.keyTags(zone.signer) { return true }
            return now >= zone.nextRefresh
        }
    }

    /// Whether a version is being served (false before `start` and after a failure).
    package var isReady: Bool { state.withLockedValue { $0.zone != nil } }

    private static func keyTags(_ signer: ZoneSigner) -> Set<UInt16> {
        Set(signer.activeKeys.map(\.keyTag) + signer.keys.map(\.keyTag))
    }

    private static func isApexSOA(_ record: ResourceRecord, _ apex: Name) -> Bool {
        record.type == .soa && record.name == apex
    }

    /// Two changes made one after the other as one IXFR step: a record the second
    /// removes that the first added was never in the old zone, and the reverse.
    static func combine(_ first: SignedZoneChange, then second: SignedZoneChange) -> SignedZoneChange {
        guard !first.isEmpty else { return second }
        let removedLater = Set(second.removed)
        let addedLater = Set(second.added)
        let addedFirst = Set(first.added)
        let removedFirst = Set(first.removed)
        return SignedZoneChange(
            removed: first.removed.filter { !addedLater.contains($0) }
                + second.removed.filter { !addedFirst.contains($0) },
            added: first.added.filter { !removedLater.contains($0) }
                + second.added.filter { !removedFirst.contains($0) })
    }
}
