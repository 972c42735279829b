import DNSEngine
import DNSWire
import ZoneCache

/// RFC 2136 dynamic updates, narrowed to what ACME DNS-01 needs (RFC 8555 8.4): adds
/// and deletes of TXT records named `_acme-challenge.<a name in the zone>`, signed with
/// a TSIG key the zone lists (`update_keys`). Everything else is refused whole: other
/// types or owners, prerequisites other than the existence checks, an unsigned update,
/// a key the zone does not list. Pure but for the zone swap; the TSIG check is done by
/// `ZoneTransferResponder` before this is asked.
package struct UpdateResponder: Sendable {
    package let zones: [ServedZone]

    package init(zones: [ServedZone]) { self.zones = zones }

    /// The challenge label (RFC 8555 8.4).
    static let challengeLabel = Array("_acme-challenge".utf8)
    /// A DNS-01 value is 43 base64url characters; room for a few more, not for a file.
    static let maxTXTLength = 512

    /// Why an update was answered as it was (for the transport's log).
    package struct Verdict: Sendable {
        package var rcode: Rcode
        package var reason: String?
        package var serial: UInt32?
    }

    /// Applies `message` (the update with its TSIG removed) signed with `key` (nil:
    /// unsigned) at `now` (Unix seconds).
    package func apply(_ message: Message, key: Name?, now: UInt32) -> Verdict {
        // RFC 2136 3.1.1: exactly one zone, of type SOA.
        guard message.questions.count == 1, message.questions[0].type == .soa, message.questions[0].rrClass == .in
        else { return Verdict(rcode: .formErr, reason: "the zone section must hold one SOA question of class IN") }
        let origin = message.questions[0].name
        guard let zone = zones.first(where: { $0.origin == origin }) else {
            return Verdict(rcode: .notAuth, reason: "not a zone updates are accepted for: \(origin)")
        }
        guard let key else { return Verdict(rcode: .refused, reason: "unsigned update") }
        guard zone.updateKeys.contains(key.lowercased) else {
            return Verdict(rcode: .refused, reason: "key \(key) may not update \(origin)")
        }
        // RFC 2136 3.4.1: the whole update is checked before anything changes.
        for record in message.authorities {
            if let refusal = Self.refusal(of: record, origin: origin) { return refusal }
        }
        var verdict = zone.modify(now: now) { current in
            if let failed = Self.prerequisitesFail(message.answers, zone: current, origin: origin) {
                return (nil, failed)
            }
            var records = ServedZone.records(of: current)
            for update in message.authorities { Self.apply(update, to: &records) }
            let challenges = records.count(where: Self.isChallenge)
            guard challenges <= zone.maxChallengeRecords else {
                return (
                    nil,
                    Verdict(
                        rcode: .refused, reason: "more than \(zone.maxChallengeRecords) challenge records in \(origin)")
                )
            }
            // A TXT beside a CNAME (or under a delegation) would make the zone invalid.
            for record in records where Self.isChallenge(record) {
                if case .exact(let index) = current.lookup(record.name),
                    current.nodes[index].rrsets[.cname] != nil || current.nodes[index].cut != nil
                {
                    return (nil, Verdict(rcode: .refused, reason: "\(record.name) is a CNAME or delegated"))
                }
                if case .below(let encloser, _) = current.lookup(record.name), current.nodes[encloser].cut != nil {
                    return (nil, Verdict(rcode: .refused, reason: "\(record.name) is delegated"))
                }
            }
            return (records, Verdict(rcode: .noError, reason: nil, serial: nil))
        }
        verdict.serial = zone.serial
        return verdict
    }

    /// RFC 2136 3.4.1 prescan, narrowed: nil when `record` is an allowed challenge change.
    static func refusal(of record: ResourceRecord, origin: Name) -> Verdict? {
        // RFC 2136 3.4.1.3: names outside the zone are NOTZONE (10).
        guard record.name.isSubdomain(of: origin) else {
            return Verdict(rcode: Rcode(10), reason: "\(record.name) is outside \(origin)")
        }
        guard isChallengeName(record.name) else {
            return Verdict(rcode: .refused, reason: "\(record.name) is not an _acme-challenge name")
        }
        guard record.type == .txt else {
            return Verdict(rcode: .refused, reason: "only TXT records may be updated, not \(record.type)")
        }
        switch record.rrClass {
        case .in:
            guard record.rdata.count <= maxTXTLength, TXTRDATA.isValid(record.rdata) else {
                return Verdict(rcode: .refused, reason: "TXT RDATA malformed or longer than \(maxTXTLength) octets")
            }
            return nil
        case .any:
            // Delete an RRset: TTL 0, no RDATA (RFC 2136 2.5.2).
            guard record.ttl == 0, record.rdata.isEmpty else {
                return Verdict(rcode: .formErr, reason: "an RRset deletion has TTL 0 and no RDATA")
            }
            return nil
        case .none:
            // Delete an RR: TTL 0 (RFC 2136 2.5.4).
            guard record.ttl == 0 else { return Verdict(rcode: .formErr, reason: "an RR deletion has TTL 0") }
            return nil
        default:
            return Verdict(rcode: .formErr, reason: "update class \(record.rrClass)")
        }
    }

    /// RFC 2136 3.2, the existence checks only (class ANY or NONE, TTL 0, no RDATA):
    /// nil when they all hold. Value-dependent prerequisites (class IN) are refused.
    static func prerequisitesFail(_ prerequisites: [ResourceRecord], zone: Zone, origin: Name) -> Verdict? {
        for prerequisite in prerequisites {
            guard prerequisite.ttl == 0, prerequisite.rdata.isEmpty else {
                return Verdict(rcode: .refused, reason: "only existence prerequisites are supported")
            }
            guard prerequisite.name.isSubdomain(of: origin) else {
                return Verdict(rcode: Rcode(10), reason: "prerequisite \(prerequisite.name) is outside \(origin)")
            }
            var types: [RRType] = []
            if case .exact(let index) = zone.lookup(prerequisite.name) { types = zone.nodes[index].types }
            let exists = prerequisite.type == .any ? !types.isEmpty : types.contains(prerequisite.type)
            switch (prerequisite.rrClass, prerequisite.type == .any) {
            case (.any, true) where !exists: return Verdict(rcode: .nxDomain, reason: "prerequisite: name not in use")
            case (.any, false) where !exists: return Verdict(rcode: Rcode(8), reason: "prerequisite: RRset missing")
            case (.none, true) where exists: return Verdict(rcode: Rcode(6), reason: "prerequisite: name in use")
            case (.none, false) where exists: return Verdict(rcode: Rcode(7), reason: "prerequisite: RRset exists")
            case (.any, _), (.none, _): continue
            default: return Verdict(rcode: .formErr, reason: "prerequisite class \(prerequisite.rrClass)")
            }
        }
        return nil
    }

    /// RFC 2136 3.4.2 for a checked challenge change.
    static func apply(_ update: ResourceRecord, to records: inout [ResourceRecord]) {
        switch update.rrClass {
        case .in:
            var added = update
            added.name = update.name.lowercased
            if !records.contains(where: { $0.name == added.name && $0.type == .txt && $0.rdata == added.rdata }) {
                records.append(added)
            }
        case .any:
            records.removeAll { $0.name == update.name && $0.type == .txt }
        default:
            records.removeAll { $0.name == update.name && $0.type == .txt && $0.rdata == update.rdata }
        }
    }

    static func isChallenge(_ record: ResourceRecord) -> Bool { record.type == .txt && isChallengeName(record.name) }

    /// `_acme-challenge.` as the first label (any case).
    static func isChallengeName(_ name: Name) -> Bool {
        let wire = name.wire
        guard wire.count > challengeLabel.count + 1, Int(wire[0]) == challengeLabel.count else { return false }
        return zip(wire[1...challengeLabel.count], challengeLabel).allSatisfy { asciiLower($0) == $1 }
    }
}

/// TXT RDATA: one or more <character-string>s filling it exactly (RFC 1035 3.3.14).
enum TXTRDATA {
    static func isValid(_ rdata: [UInt8]) -> Bool {
        var index = 0
        while index < rdata.count { index += 1 + Int(rdata[index]) }
        return index == rdata.count && !rdata.isEmpty
    }
}
