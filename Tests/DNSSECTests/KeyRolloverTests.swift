import DNSWire
import Testing

@testable import DNSSEC

/// The CSK roll through its states with a fake clock: pre-publication, double
/// signature, DS seen, retired, removed; CDS follows what the parent should hold.
@Suite struct KeyRolloverTests {
    static let zone = try! Name("1bz.")
    static let t0: UInt32 = 1_780_000_000
    static let policy = KeyRollover.Policy(prepublish: 100, parentDSTTL: 50, keyLifetime: 1000, dsSeenDelay: 30)

    func signer(_ files: [BINDKeyFile], _ now: UInt32) -> ZoneSigner {
        KeySet.signer(files: files, zone: Self.zone, now: now)!
    }

    @Test func automaticRollRunsThroughEveryState() throws {
        let old = BINDKeyFile(zone: Self.zone, key: try SigningKey.generate(algorithm: .ecdsaP256SHA256), created: Self.t0)
        var files = [old]
        func apply(_ changed: [BINDKeyFile]) {
            for file in changed {
                files.removeAll { $0.key.keyTag == file.key.keyTag }
                files.append(file)
            }
        }
        func tags(_ keys: [SigningKey]) -> Set<UInt16> { Set(keys.map(\.keyTag)) }
        let oldTag = old.key.keyTag

        #expect(try KeyRollover.step(files, zone: Self.zone, now: Self.t0 + 999, policy: Self.policy).isEmpty)
        // Lifetime reached: a successor, published, not signing.
        let t1 = Self.t0 + 1000
        apply(try KeyRollover.step(files, zone: Self.zone, now: t1, policy: Self.policy))
        #expect(files.count == 2)
        let newTag = try #require(files.first { $0.key.keyTag != oldTag }).key.keyTag
        var s = signer(files, t1)
        #expect(tags(s.keys) == [oldTag, newTag] && tags(s.activeKeys) == [oldTag])
        #expect(tags(s.syncKeys) == [oldTag, newTag], "CDS offers the new DS to the parent")
        #expect(KeyRollover.state(of: files[1], in: files, at: t1) == .published)
        // A second roll cannot start meanwhile.
        #expect(try KeyRollover.start(files, zone: Self.zone, now: t1, policy: Self.policy) == nil)

        // After pre-publication: both sign; the old one waits for the DS.
        let t2 = t1 + 100
        s = signer(files, t2)
        #expect(tags(s.activeKeys) == [oldTag, newTag])
        #expect(KeyRollover.state(of: files[0], in: files, at: t2) == .awaitingDSSeen)
        #expect(try KeyRollover.step(files, zone: Self.zone, now: t2 + 29, policy: Self.policy).isEmpty)

        // DS seen (automatically after 30 s): the old key retires, CDS lists the new one only.
        let t3 = t2 + 30
        apply(try KeyRollover.step(files, zone: Self.zone, now: t3, policy: Self.policy))
        s = signer(files, t3)
        #expect(tags(s.activeKeys) == [oldTag, newTag] && tags(s.syncKeys) == [newTag])
        let retiring = try #require(files.first { $0.key.keyTag == oldTag })
        #expect(KeyRollover.state(of: retiring, in: files, at: t3) == .retiring)
        // Past the parent's DS TTL: published, not signing; past prepublish: gone.
        s = signer(files, t3 + 50)
        #expect(tags(s.activeKeys) == [newTag] && tags(s.keys) == [oldTag, newTag])
        s = signer(files, t3 + 150)
        #expect(tags(s.keys) == [newTag] && tags(s.activeKeys) == [newTag])
        #expect(KeyRollover.state(of: retiring, in: files, at: t3 + 150) == .removed)
    }

    @Test func dsSeenWaitsForAnActiveSuccessor() throws {
        let old = BINDKeyFile(zone: Self.zone, key: try SigningKey.generate(algorithm: .ed25519), created: Self.t0)
        let new = try #require(try KeyRollover.start([old], zone: Self.zone, now: Self.t0 + 10, policy: Self.policy))
        #expect(new.key.algorithm == .ed25519)
        #expect(KeyRollover.dsSeen([old, new], now: Self.t0 + 20, policy: Self.policy).isEmpty)
        let changed = KeyRollover.dsSeen([old, new], now: Self.t0 + 110, policy: Self.policy)
        #expect(changed.map(\.key.keyTag) == [old.key.keyTag])
        #expect(changed.first?.inactive == Self.t0 + 160 && changed.first?.delete == Self.t0 + 260)
    }
}
