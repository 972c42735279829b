import Foundation
import NodeRegistry
import Testing
import TestSupport

/// Issue 21, the registry's share: hostile timestamps, cheap trust, an unbounded change
/// feed. Each test runs the real onebz-registry against a real devnet.
@Suite(.serialized) struct RegistryHardeningTests {
    /// Finding 2: `abs(ts - now)` trapped for timestamp = Int64.min, so one heartbeat
    /// signed with a node's key stopped the registry.
    @Test func extremeTimestampsAreRefusedAndTheRegistryKeepsAnswering() async throws {
        let h = try await RegistryHarness("registry-extreme-ts")
        defer { h.stop() }
        let shashi = h.samples[0]
        let acme = h.samples[1]
        _ = try await h.client.publish(try .signed(by: shashi.key, ipv4: ["127.0.0.50"], ipv6: [], seq: 1))
        _ = try await h.client.publish(try .signed(by: acme.key, ipv4: ["127.0.0.51"], ipv6: [], seq: 1))
        for timestamp in [Int64.min, Int64.min + 1, Int64.max, -1] {
            let beat = try JSONEncoder().encode(Heartbeat.signed(by: shashi.key, timestamp: timestamp))
            let (status, body) = try h.http("POST", "/v1/verify", body: beat)
            #expect(status == 400 && RegistryHarness.errorCode(body) == "clock_skew", "heartbeat \(timestamp): \(status) \(body)")
            let endorsement = try JSONEncoder().encode(
                Endorsement.signed(by: acme.key, endorsing: shashi.id, timestamp: timestamp))
            let (eStatus, eBody) = try h.http("POST", "/v1/endorse", body: endorsement)
            #expect(
                eStatus == 400 && RegistryHarness.errorCode(eBody) == "clock_skew",
                "endorsement \(timestamp): \(eStatus) \(eBody)")
        }
        #expect(h.registry.isRunning)
        #expect(try h.http("GET", "/healthz").0 == 200)
        let now = Int64(Date().timeIntervalSince1970)
        #expect(try await h.client.heartbeat(.signed(by: shashi.key, timestamp: now)).trust == 40)
    }

    /// Finding 8: an endorser counts only while it is verified or staked on chain, and
    /// that is checked when the score is computed, not only when it endorsed.
    @Test func onlyVerifiedOrStakedEndorsersCountAndAreRecheckedWhenScoring() async throws {
        let h = try await RegistryHarness("registry-endorsers")
        defer { h.stop() }
        let shashi = h.samples[0]  // verified
        let acme = h.samples[1]  // 5 POL stake, not verified
        let bob = h.samples[2]  // registered only: costs gas, nothing else
        for (index, node) in [shashi, acme, bob].enumerated() {
            _ = try await h.client.publish(try .signed(by: node.key, ipv4: ["127.0.0.6\(index)"], ipv6: [], seq: 1))
        }
        let now = Int64(Date().timeIntervalSince1970)
        let byBob = try await h.client.endorse(.signed(by: bob.key, endorsing: shashi.id, timestamp: now))
        #expect(byBob.trust == 40, "an endorser that is neither verified nor staked added \(byBob.trust - 40)")
        let byAcme = try await h.client.endorse(.signed(by: acme.key, endorsing: shashi.id, timestamp: now))
        #expect(byAcme.trust == 43)
        // bob becomes verified on chain: his standing endorsement now counts, without a new one.
        try await h.devnet.verifyNode(nodeHash: bob.nodeHash)
        let deadline = ContinuousClock.now + .seconds(30)
        var entry = try await h.client.fetch(nodeId: shashi.id)
        while entry.trust != 46 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            entry = try await h.client.fetch(nodeId: shashi.id)
        }
        #expect(entry.trust == 46)
    }

    /// Finding 9: the change feed keeps the last `--changes-retain` rows; a cursor older
    /// than that gets 410 `resync` (the client must start over), not a silent gap.
    @Test func changeFeedIsBoundedAndOldCursorsAreToldToResync() async throws {
        let h = try await RegistryHarness("registry-changes", extraArguments: ["--changes-retain", "5"])
        defer { h.stop() }
        let shashi = h.samples[0]
        for seq in 1...12 as ClosedRange<UInt64> {
            _ = try await h.client.publish(try .signed(by: shashi.key, ipv4: ["127.0.0.70"], ipv6: [], seq: seq))
        }
        let all = try await h.client.changes(since: 0)
        #expect(all.changes.count <= 5, "kept \(all.changes.count) rows")
        #expect(all.changes.last?.cursor == all.next)
        let (status, body) = try h.http("GET", "/v1/changes?since=1")
        #expect(status == 410 && RegistryHarness.errorCode(body) == "resync", "\(status) \(body)")
        await #expect {
            _ = try await h.client.changes(since: 1)
        } throws: { error in
            (error as? RegistryClientError)?.kind == .resync
        }
        // A cursor inside what is kept works as before.
        let recent = try await h.client.changes(since: all.next - 1)
        #expect(recent.changes.count == 1 && recent.next == all.next)
    }
}
