import DNSWire

/// The keys of a zone at one moment, from its key files' timing metadata: which are
/// published (in DNSKEY) and which sign. Pre-publication rollover is a new key whose
/// `Publish` comes before its `Activate`, and an old one with `Inactive` then `Delete`.
public enum KeySet {
    /// A signer for `zone` at `now`; nil when no key is active.
    public static func signer(
        files: [BINDKeyFile], zone: Name, now: UInt32, staticTiming: ZoneSigner.Timing = .staticDefault,
        dynamicTiming: ZoneSigner.Timing = .dynamicDefault, keyTTL: UInt32 = 3600
    ) -> ZoneSigner? {
        let published = files.filter { $0.isPublished(at: now) }
        let active = published.filter { $0.isActive(at: now) }
        guard !active.isEmpty else { return nil }
        // CDS/CDNSKEY (RFC 7344): the keys the parent's DS should point at: the ones
        // without an end (mid-roll: old and new until the DS is seen, then the new).
        let sync = published.filter { $0.inactive == nil && $0.delete == nil }
        return ZoneSigner(
            apex: zone, keys: published.map(\.key), activeKeys: active.map(\.key), staticTiming: staticTiming,
            dynamicTiming: dynamicTiming, keyTTL: keyTTL, syncKeys: (sync.isEmpty ? published : sync).map(\.key))
    }
}
