import DNSSEC
import DNSWire
import Synchronization
import ZoneCache

/// A zone served beside the main one (`[[zones]]`: the gateway's own zone, say): static
/// records from a master file, optionally signed with its own keys, and changed only by
/// dynamic updates (RFC 2136) of the keys in `updateKeys`. Queries read the prepared
/// snapshot with one atomic load, as the main zone's; an update builds the next snapshot
/// under a lock writers alone take, bumps the SOA serial and publishes it whole.
package final class ServedZone: Sendable {
    package let origin: Name
    /// TSIG key names (lowercase) whose signed UPDATEs this zone accepts; empty: none.
    package let updateKeys: Set<Name>
    /// At most this many challenge TXT records at once (a key holder cannot fill memory).
    package let maxChallengeRecords: Int
    private let box: PreparedZoneBox
    /// Serialises writers (updates, re-signing); readers never take it.
    private let writer = Mutex<Void>(())

    package init(
        zone: Zone, signer: ZoneSigner?, now: UInt32, updateKeys: [Name] = [], maxChallengeRecords: Int = 100
    ) {
        origin = zone.apex
        self.updateKeys = Set(updateKeys.map(\.lowercased))
        self.maxChallengeRecords = maxChallengeRecords
        box = PreparedZoneBox(PreparedZone(zone: zone, signer: signer, now: now))
    }

    /// The snapshot queries are answered from now.
    package var prepared: PreparedZone { box.current }

    /// The zone as given plus the updates applied (without DNSKEY; what an update edits).
    package var zone: Zone { box.current.baseZone }

    /// The serial served now.
    package var serial: UInt32 { box.current.baseZone.serial }

    /// When the served signatures must be renewed (nil: unsigned).
    package var signatureRefreshTime: UInt32? { box.current.signed?.refreshAt }

    /// Re-signs the current records with `signer` at `now` (renewal, new keys).
    package func resign(with signer: ZoneSigner?, now: UInt32) {
        writer.withLock { _ in
            let current = box.current
            box.replace(with: PreparedZone(zone: current.baseZone, signer: signer, now: now))
        }
    }

    /// Runs `edit` on the current records under the writers' lock. When it returns new
    /// records that differ from the current ones, they are served from now on with the
    /// SOA serial one higher (RFC 1982 arithmetic; RFC 2136 3.7), re-signed at `now`
    /// when the zone is signed. `edit` returns its verdict either way; a thrown or nil
    /// result changes nothing (an update is all or nothing, RFC 2136 3.4.2.7).
    package func modify<Verdict>(
        now: UInt32, _ edit: (Zone) -> (records: [ResourceRecord]?, verdict: Verdict)
    ) -> Verdict {
        writer.withLock { _ in
            let current = box.current
            let base = current.baseZone
            let (records, verdict) = edit(base)
            guard let records, !Self.sameRecords(records, as: base) else { return verdict }
            let next = base.serial &+ 1
            let renumbered = records.map { $0.type == .soa && $0.name == base.apex ? $0.withSOASerial(next) : $0 }
            guard let zone = try? Zone(apex: base.apex, records: renumbered, source: "update of \(base.apex)") else {
                return verdict
            }
            box.replace(with: PreparedZone(zone: zone, signer: current.signed?.signer, now: now))
            return verdict
        }
    }

    /// Every record of `zone`, in node order (what `modify` hands back edited).
    package static func records(of zone: Zone) -> [ResourceRecord] {
        zone.nodes.flatMap { node in node.types.flatMap { node.rrsets[$0] ?? [] } }
    }

    private static func sameRecords(_ records: [ResourceRecord], as zone: Zone) -> Bool {
        Set(Self.records(of: zone)) == Set(records)
    }
}
