import DNSWire
import TOMLConfiguration

extension ServerConfiguration {
    /// `[[zones]]`: a static zone served beside the main one (docs/dns.md#more-zones).
    package struct ServedZoneSettings: Sendable, Equatable {
        package var origin: Name
        /// RFC 1035 master file.
        package var file: String
        /// BIND key files (`K<zone>+013+NNNNN.key`/`.private`, either name or the base);
        /// empty: the zone is not signed.
        package var dnssecKeyFiles: [String] = []
        /// TSIG key names (from `transfer.tsig_key_files`) allowed to update its
        /// `_acme-challenge` TXT records (RFC 2136); empty: no updates.
        package var updateKeys: [String] = []
        /// Challenge TXT records held at once, at most.
        package var maxChallengeRecords = 100
    }

    static func servedZones(_ top: TableReader) throws(ConfigurationError) -> [ServedZoneSettings] {
        var zones: [ServedZoneSettings] = []
        for entry in try top.tables("zones") {
            try entry.onlyKeys(["origin", "file", "dnssec_key_files", "update_keys", "max_challenge_records"])
            let text = try entry.required(entry.string("origin"), "origin")
            guard let origin = try? Name(text.hasSuffix(".") ? text : text + ".") else {
                throw ConfigurationError(key: entry.key("origin"), "\"\(text)\" is not a domain name")
            }
            guard !zones.contains(where: { $0.origin == origin }) else {
                throw ConfigurationError(key: entry.key("origin"), "\(origin) is served twice")
            }
            var zone = ServedZoneSettings(origin: origin, file: try entry.required(entry.string("file"), "file"))
            if let v = try entry.strings("dnssec_key_files") { zone.dnssecKeyFiles = v }
            if let v = try entry.strings("update_keys") { zone.updateKeys = v }
            if let v = try entry.int("max_challenge_records", min: 1, max: 100_000) { zone.maxChallengeRecords = v }
            zones.append(zone)
        }
        return zones
    }
}
