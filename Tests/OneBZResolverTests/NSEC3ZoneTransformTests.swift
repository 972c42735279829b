import DNSEngine
import Dispatch
import DNSSEC
import DNSTestSupport
import DNSWire
import NIOConcurrencyHelpers
import Testing
import ZoneTransfer

@testable import OneBZResolver

/// The materialised zone signed for secondaries: versions carry DNSKEY, NSEC3PARAM, the
/// NSEC3 chain and RRSIGs; differences are signed (never the SOA in their bodies);
/// a difference that cannot be signed restarts the journal; due signatures make a
/// serial of their own.
@Suite("NSEC3ZoneTransform", .timeLimit(.minutes(3)))
struct NSEC3ZoneTransformTests {
    typealias Fixture = MaterializedZoneTests.Fixture
    static let key = try! SigningKey.generate(algorithm: .ed25519)
    static let start: UInt32 = 1_780_000_000

    final class Keys: Sendable {
        let signer = NIOLockedValueBox<ZoneSigner?>(ZoneSigner(apex: EngineFixture.apex, keys: [key]))
        let clock = NIOLockedValueBox<UInt32>(start)
        var transform: NSEC3ZoneTransform {
            NSEC3ZoneTransform(
                signer: { self.signer.withLockedValue { $0 } }, clock: { self.clock.withLockedValue { $0 } })
        }
    }

    static func types(_ records: some Sequence<ResourceRecord>) -> Set<RRType> { Set(records.map(\.type)) }

    @Test func versionsAndDifferencesAreSignedWithAnNSEC3Chain() async throws {
        var names = MaterializedZoneTests.names
        let keys = Keys()
        let f = Fixture(names, transform: keys.transform)
        f.sync(7, registering: Array(names.keys))
        await f.materializer.round()
        let version = try #require(f.zone.currentVersion())
        #expect(version.serial == 7)
        let records = f.records()
        #expect(Self.types(records).isSuperset(of: [.dnskey, RRType.nsec3param, RRType.nsec3, .rrsig]))
        #expect(!records.contains { $0.type == .nsec }, "secondaries get NSEC3, not compact denial")
        let shashi = try Name("shashi.1bz")
        #expect(records.contains { $0.name == shashi && $0.type == .rrsig })

        names["dave.1bz"] = MaterializedZoneTests.node("dave.1bz", 0x15)
        f.chain.nodes.withLockedValue { $0 = names }
        f.sync(8, registering: ["dave.1bz"])
        await f.materializer.round()
        let step = try #require(f.zone.differences(since: 7)?.first)
        #expect(Self.types(step.added).isSuperset(of: [.txt, .rrsig, RRType.nsec3]))
        #expect(!(step.removed + step.added).contains { $0.type == .soa }, "SOAs frame the step, never inside it")
        // The signed SOA of serial 7 goes, the one of serial 8 comes.
        #expect(step.removed.contains { $0.type == .rrsig && $0.name == EngineFixture.apex })
        // Old zone - removed + added = the new version.
        #expect(f.records() == records.subtracting(step.removed).union(step.added))
    }

    /// A restored zone is signed in the background: transfers get nothing (SERVFAIL)
    /// until the signed zone is in, asking meanwhile does not start a second build, and a
    /// difference made meanwhile is signed onto the build.
    @Test func aBackgroundBuildIsWaitedForNotRepeated() async throws {
        let f = Fixture(MaterializedZoneTests.names)
        f.sync(7, registering: Array(MaterializedZoneTests.names.keys))
        await f.materializer.round()
        let version = try #require(f.zone.currentVersion())
        let gate = DispatchSemaphore(value: 0)
        let builds = NIOLockedValueBox(0)
        let transform = NSEC3ZoneTransform(
            signer: {
                if builds.withLockedValue({ $0 += 1; return $0 }) == 1 { _ = gate.wait(timeout: .now() + 20) }
                return ZoneSigner(apex: EngineFixture.apex, keys: [Self.key])
            }, clock: { Self.start })
        transform.startInBackground(version)
        #expect(transform.version(version) == nil, "transfers wait for the build")
        #expect(!transform.isReady)
        // The zone moves on while it builds: the step is signed onto the build when it is in.
        let step = ZoneDifference(oldSOA: version.soa, newSOA: version.soa.withSOASerial(8), removed: [], added: [])
        #expect(transform.difference(step) == nil, "no signed step during the build: IXFR falls back to AXFR")
        gate.signal()
        let deadline = ContinuousClock.now + .seconds(20)
        while !transform.isReady, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let signed = try #require(transform.version(version))
        #expect(signed.serial == 8, "the build with the step made meanwhile")
        #expect(builds.withLockedValue { $0 } == 1, "built once")
        let next = ZoneDifference(
            oldSOA: version.soa.withSOASerial(8), newSOA: version.soa.withSOASerial(9), removed: [], added: [])
        #expect(transform.difference(next) != nil, "and the steps after it are signed again")
    }

    @Test func aDifferenceThatCannotBeSignedRestartsTheJournal() async throws {
        let keys = Keys()
        let f = Fixture(MaterializedZoneTests.names, transform: keys.transform)
        f.sync(7, registering: Array(MaterializedZoneTests.names.keys))
        await f.materializer.round()
        keys.signer.withLockedValue { $0 = nil }
        // A change at block 8 (alice verified): a new serial that cannot be signed.
        f.chain.nodes.withLockedValue { $0["alice.1bz"] = MaterializedZoneTests.node("alice.1bz", 0x12, verified: true) }
        f.sync(8, events: [.verified(nodeHash: MaterializedZoneTests.hash(0x12))])
        await f.materializer.round()
        #expect(f.zone.serial == 8)
        #expect(f.zone.differences(since: 7) == nil, "an unsigned step is never served by IXFR")
        #expect(f.zone.currentVersion() == nil, "no keys: transfers get SERVFAIL, not an unsigned zone")
        keys.signer.withLockedValue { $0 = ZoneSigner(apex: EngineFixture.apex, keys: [Self.key]) }
        let rebuilt = try #require(f.zone.currentVersion(), "rebuilt from the version asked for")
        #expect(rebuilt.serial == 8)
        f.chain.nodes.withLockedValue { $0["alice.1bz"] = MaterializedZoneTests.node("alice.1bz", 0x12, verified: false) }
        f.sync(9, events: [.verified(nodeHash: MaterializedZoneTests.hash(0x12))])
        await f.materializer.round()
        #expect(f.zone.differences(since: 8)?.count == 1, "the rebuilt zone carries on by IXFR")
    }

    @Test func dueSignaturesMakeASerialOfTheirOwn() async throws {
        let keys = Keys()
        let f = Fixture(MaterializedZoneTests.names, transform: keys.transform)
        f.sync(7, registering: Array(MaterializedZoneTests.names.keys))
        await f.materializer.round()
        f.zone.renewSignaturesIfDue()
        #expect(f.zone.serial == 7, "nothing due yet")
        keys.clock.withLockedValue { $0 += 6 * 86_400 }
        f.zone.renewSignaturesIfDue()
        #expect(f.zone.serial == 8)
        let step = try #require(f.zone.differences(since: 7)?.first)
        #expect(step.added.allSatisfy { $0.type == .rrsig } && !step.added.isEmpty, "only signatures change")
    }

    @Test func twoChangesInOneStepCancelWhatTheSecondUndoes() throws {
        let a = ResourceRecord(name: try Name("a.1bz"), type: .a, ttl: 60, rdata: [192, 0, 2, 1])
        let b = ResourceRecord(name: try Name("b.1bz"), type: .a, ttl: 60, rdata: [192, 0, 2, 2])
        let c = ResourceRecord(name: try Name("c.1bz"), type: .a, ttl: 60, rdata: [192, 0, 2, 3])
        let combined = NSEC3ZoneTransform.combine(
            SignedZoneChange(removed: [a], added: [b]), then: SignedZoneChange(removed: [b], added: [a, c]))
        #expect(combined.removed.isEmpty && combined.added == [c])
    }
}
