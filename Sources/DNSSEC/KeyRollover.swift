import DNSWire

/// CSK rollover (RFC 6781 4.1.2, RFC 7583 3.3) driven by the key files' timing
/// metadata, so its state is the key directory and survives restarts:
///
/// 1. **Pre-publication**: a successor is created with `Publish` now and `Activate`
///    `prepublish` later: it is in DNSKEY (and CDS/CDNSKEY, RFC 7344/8078: the parent
///    may add its DS) before any signature by it appears, so resolvers caching the old
///    DNSKEY set never see a signature they cannot check.
/// 2. **Double signature**: from `Activate` both keys sign. The DS at the parent
///    points at the old key (a CSK is also the KSK): it must keep signing.
/// 3. **DS seen**: once the parent publishes the successor's DS (an operator's
///    `onebzd dnssec ds-seen`, or automatically after `dsSeenDelay`), the old key gets
///    `Inactive` = now + the parent's DS TTL (resolvers may hold the old DS that long)
///    and `Delete` = `Inactive` + `prepublish` (signatures by it leave caches); CDS then
///    lists the successor only, so the parent drops the old DS.
/// 4. **Removed**: past `Delete` the old key is neither published nor signing.
public enum KeyRollover {
    public struct Policy: Sendable, Equatable {
        /// How long a successor is published before it signs, and how long a retired
        /// key stays published after it stopped signing (the zone's largest TTL).
        public var prepublish: UInt32 = 3600
        /// TTL of our DS at the parent (a TLD's DS: typically a day).
        public var parentDSTTL: UInt32 = 86_400
        /// Roll the CSK automatically this long after it became active (nil: by hand).
        public var keyLifetime: UInt32?
        /// Treat the successor's DS as seen this long after it became active (nil: wait
        /// for `onebzd dnssec ds-seen`). For parents that follow CDS on a known schedule.
        public var dsSeenDelay: UInt32?

        public init(
            prepublish: UInt32 = 3600, parentDSTTL: UInt32 = 86_400, keyLifetime: UInt32? = nil,
            dsSeenDelay: UInt32? = nil
        ) {
            self.prepublish = prepublish
            self.parentDSTTL = parentDSTTL
            self.keyLifetime = keyLifetime
            self.dsSeenDelay = dsSeenDelay
        }
    }

    /// Where a key stands at `now`.
    public enum State: String, Sendable {
        case published = "published (pre-publication, not signing yet)"
        case active = "active"
        case awaitingDSSeen = "active, waiting for the parent's DS of its successor"
        case retiring = "retiring (signing until Inactive, DS seen)"
        case retired = "retired (published until Delete, not signing)"
        case removed = "removed"
        case future = "not published yet"
    }

    public static func state(of file: BINDKeyFile, in files: [BINDKeyFile], at now: UInt32) -> State {
        if let delete = file.delete, delete <= now { return .removed }
        if let publish = file.publish, publish > now { return .future }
        if let activate = file.activate, activate > now { return .published }
        if let inactive = file.inactive { return inactive <= now ? .retired : .retiring }
        if successor(of: file, in: files) != nil { return .awaitingDSSeen }
        return .active
    }

    /// A newer key of the same zone without an end: the one replacing `file`.
    static func successor(of file: BINDKeyFile, in files: [BINDKeyFile]) -> BINDKeyFile? {
        files.first {
            $0.key.keyTag != file.key.keyTag && $0.inactive == nil && $0.delete == nil
                && ($0.activate ?? 0) > (file.activate ?? 0)
        }
    }

    /// The keys that have no end yet: the current CSK, or the old and the new one mid-roll.
    static func live(_ files: [BINDKeyFile]) -> [BINDKeyFile] {
        files.filter { $0.inactive == nil && $0.delete == nil }
    }

    /// Starts a roll: a new CSK (the current key's algorithm unless given) published
    /// now, signing after `prepublish`. Nil when a roll is already under way.
    public static func start(
        _ files: [BINDKeyFile], zone: Name, now: UInt32, policy: Policy, algorithm: DNSSECAlgorithm? = nil
    ) throws(DNSSECError) -> BINDKeyFile? {
        let live = live(files)
        guard live.count <= 1 else { return nil }
        let algorithm = algorithm ?? live.first?.key.algorithm ?? .ecdsaP256SHA256
        var file = BINDKeyFile(zone: zone, key: try SigningKey.generate(algorithm: algorithm), created: now)
        file.activate = now &+ policy.prepublish
        return file
    }

    /// The parent now has the successor's DS: the old keys get their end (`Inactive`
    /// after the parent's DS TTL, `Delete` after that plus `prepublish`). Returns the
    /// changed files (empty when no roll waits for it).
    public static func dsSeen(_ files: [BINDKeyFile], now: UInt32, policy: Policy) -> [BINDKeyFile] {
        let live = live(files)
        guard let newest = live.max(by: { ($0.activate ?? 0) < ($1.activate ?? 0) }), live.count > 1,
            (newest.activate ?? 0) <= now
        else { return [] }
        return live.filter { $0.key.keyTag != newest.key.keyTag }.map { old in
            var old = old
            old.inactive = now &+ policy.parentDSTTL
            old.delete = now &+ policy.parentDSTTL &+ policy.prepublish
            return old
        }
    }

    /// What the timers call for at `now` (automatic rollover): a new key to write, or
    /// old keys to end because the DS counts as seen. Empty: nothing to do.
    public static func step(
        _ files: [BINDKeyFile], zone: Name, now: UInt32, policy: Policy
    ) throws(DNSSECError) -> [BINDKeyFile] {
        let live = live(files)
        if live.count > 1 {
            guard let delay = policy.dsSeenDelay,
                let newest = live.max(by: { ($0.activate ?? 0) < ($1.activate ?? 0) }),
                (newest.activate ?? 0) &+ delay <= now
            else { return [] }
            return dsSeen(files, now: now, policy: policy)
        }
        guard let lifetime = policy.keyLifetime, let current = live.first,
            (current.activate ?? current.created ?? 0) &+ lifetime <= now
        else { return [] }
        return try start(files, zone: zone, now: now, policy: policy).map { [$0] } ?? []
    }
}
