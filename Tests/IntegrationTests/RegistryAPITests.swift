import Foundation
import NodeRegistry
import Testing
import TestSupport

/// The real onebz-registry against a real devnet (docs/registry.md).
@Suite(.serialized) struct RegistryAPITests {
    @Test func goodRecordIsAcceptedAndBadOnesRejectedWithNothingStored() async throws {
        let h = try await RegistryHarness("registry-api")
        defer { h.stop() }
        let shashi = h.samples[0]
        let acme = h.samples[1]
        let good = try NodeMetadata.signed(by: shashi.key, ipv4: ["127.0.0.10"], ipv6: ["::1"], seq: 10)
        let entry = try await h.client.publish(good)
        #expect(entry.record == good)
        #expect(entry.verified && entry.registered)
        #expect(entry.trust == 40 && entry.tier == "verified")

        func put(_ id: String, _ body: Data) throws -> (Int, String?) {
            let (status, text) = try h.http("PUT", "/v1/nodes/\(id)", body: body)
            return (status, RegistryHarness.errorCode(text))
        }
        func json(_ r: NodeMetadata) throws -> Data { try JSONEncoder().encode(r) }

        // Wrong key: acme's key and signature under shashi's node_id.
        var wrongKey = try NodeMetadata.signed(by: acme.key, ipv4: ["127.0.0.66"], ipv6: [], seq: 11)
        wrongKey.nodeID = shashi.nodeID
        #expect(try put(shashi.nodeID, json(wrongKey)) == (403, "key_mismatch"))
        // Bad signature: addresses changed after signing.
        var forged = try NodeMetadata.signed(by: shashi.key, ipv4: ["127.0.0.10"], ipv6: [], seq: 12)
        forged.ipv4 = ["127.0.0.66"]
        #expect(try put(shashi.nodeID, json(forged)) == (403, "bad_signature"))
        // Stale seq: equal and lower.
        for seq in [10, 9] as [UInt64] {
            let stale = try NodeMetadata.signed(by: shashi.key, ipv4: ["127.0.0.66"], ipv6: [], seq: seq)
            #expect(try put(shashi.nodeID, json(stale)) == (409, "stale_seq"))
        }
        // Unregistered node: a valid record of a key that is not on chain.
        let stranger = Ed25519PrivateKey(seed: Array(repeating: 42, count: 32))
        let unregistered = try NodeMetadata.signed(by: stranger, ipv4: ["127.0.0.66"], ipv6: [], seq: 1)
        #expect(try put(unregistered.nodeID, json(unregistered)) == (403, "unregistered"))
        // Garbage, wrong shapes, URL/body mismatch, bad ids, oversize body.
        #expect(try put(shashi.nodeID, Data("{not json".utf8)) == (400, "invalid_json"))
        #expect(try put(shashi.nodeID, Data(#"{"node_id": 5}"#.utf8)) == (400, "invalid_json"))
        #expect(try put(acme.nodeID, json(good)) == (400, "node_id_mismatch"))
        #expect(try put("XYZ", json(good)) == (400, "invalid_node_id"))
        let huge = Data(#"{"pad": ""#.utf8) + Data(repeating: UInt8(ascii: "a"), count: 100_000) + Data(#""}"#.utf8)
        #expect(try put(shashi.nodeID, huge) == (413, "body_too_large"))

        // Nothing of that was stored.
        let stored = try await h.client.fetch(nodeId: shashi.id)
        #expect(stored.metadata.record == good)
        await #expect(throws: RegistryClientError.self) { try await h.client.fetch(nodeId: stranger.publicKey.nodeID) }
        do {
            _ = try await h.client.fetch(nodeId: stranger.publicKey.nodeID)
        } catch {
            #expect(error.kind == .notFound)
        }
        let feed = try await h.client.changes(since: 0)
        #expect(feed.changes.map(\.nodeID) == [shashi.nodeID])
        #expect(try h.http("GET", "/v1/nodes/\(acme.nodeID)").0 == 404)
        #expect(try h.http("GET", "/v1/nodes/nothex").0 == 400)
        #expect(try h.http("GET", "/healthz") == (200, #"{"status":"ok"}"#))
        let unknown = try h.http("DELETE", "/v1/nodes/\(shashi.nodeID)")
        #expect(unknown.0 == 404 && RegistryHarness.errorCode(unknown.1) == "not_found")
        #expect(try h.http("GET", "/v1/changes?since=-1").0 == 400)

        // A higher seq replaces the record; by-hash finds it and the client verifies it.
        let newer = try NodeMetadata.signed(by: shashi.key, ipv4: ["127.0.0.11"], ipv6: [], seq: 11)
        _ = try await h.client.publish(newer)
        let byHash = try await h.client.fetch(nodeHash: shashi.id.nodeHash)
        #expect(byHash.metadata.record == newer)
        // by-name follows the registry's chain view (a hint onebzd checks against the chain).
        let byName = try await h.client.fetch(name: "ShAsHi.1bz")
        #expect(byName.metadata.record == newer)
        #expect(try h.http("GET", "/v1/nodes/by-name/nosuch.1bz").0 == 404)
        // A 404 says what the registry knows: acme is registered (hash given), nosuch is not.
        do {
            _ = try await h.client.fetch(name: "acme.1bz")
            Issue.record("acme has no record, yet by-name found one")
        } catch {
            #expect(error.kind == .notFound && error.registeredNodeHash == acme.id.nodeHash)
        }
        let acmeByName = try h.http("GET", "/v1/nodes/by-name/acme.1bz")
        #expect(acmeByName.0 == 404 && RegistryHarness.errorCode(acmeByName.1) == "no_record")
        do {
            _ = try await h.client.fetch(name: "nosuch.1bz")
            Issue.record("nosuch.1bz found")
        } catch {
            #expect(error.kind == .notFound && error.registeredNodeHash == nil)
        }
        #expect(try h.http("GET", "/v1/nodes/by-name/shashi.com").0 == 400)
        #expect(try await h.client.changes(since: feed.next).changes.map(\.nodeID) == [shashi.nodeID])
    }

    /// `GET /v1/nodes/export`: every entry once, in node-hash order, each as the per-node
    /// GET serves it (and checked by the client the same way); a write between pages
    /// shows in a later page; bad cursors and limits are 400s.
    @Test func exportPagesEveryEntryAsThePerNodeGETsServeIt() async throws {
        let h = try await RegistryHarness("registry-export")
        defer { h.stop() }
        for (index, sample) in h.samples.enumerated() {
            _ = try await h.client.publish(try NodeMetadata.signed(by: sample.key, ipv4: ["192.0.2.\(index + 1)"], ipv6: [], seq: 1))
        }
        let sorted = h.samples.map { NodeHash(nodeID: $0.id) }.sorted { $0.hex < $1.hex }
        var seen: [RegistryEntry] = []
        var cursor: NodeHash? = nil
        var pages = 0
        repeat {
            let page = try await h.client.export(after: cursor, limit: 1)
            pages += 1
            seen += page.entries
            if pages == 1 {
                // A write while the export is walked: the last node's page shows it.
                let last = h.samples.first { NodeHash(nodeID: $0.id) == sorted.last }!
                _ = try await h.client.publish(try NodeMetadata.signed(by: last.key, ipv4: ["192.0.2.99"], ipv6: [], seq: 2))
            }
            cursor = page.next
        } while cursor != nil && pages < 10
        #expect(seen.map(\.nodeHash) == sorted, "every entry once, in node-hash order")
        #expect(seen.last?.record.seq == 2, "a write before its page was read is in it")
        for entry in seen {
            let checked = try entry.verified(nodeHash: entry.nodeHash)
            #expect(try await h.client.fetch(nodeHash: entry.nodeHash) == checked, "as the per-node GET serves it")
        }
        let whole = try await h.client.export(after: nil)
        #expect(whole.entries == seen && whole.next == nil)
        #expect(try await h.client.export(after: sorted.last).entries.isEmpty)
        #expect(RegistryHarness.errorCode(try h.http("GET", "/v1/nodes/export?after=xyz").1) == "invalid_cursor")
        #expect(try h.http("GET", "/v1/nodes/export?limit=0").0 == 400)
        #expect(try h.http("GET", "/v1/nodes/export?limit=\(NodeExportPage.maxLimit + 1)").0 == 400)
    }

    @Test func dataSurvivesRestartAndKill9() async throws {
        let h = try await RegistryHarness("registry-restart")
        defer { h.stop() }
        let acme = h.samples[1]
        let record = try NodeMetadata.signed(by: acme.key, ipv4: ["127.0.0.20"], ipv6: ["2001:db8::20"], seq: 100)
        _ = try await h.client.publish(record)
        try await h.restart(signal: SIGTERM)
        #expect(try await h.client.fetch(nodeId: acme.id).metadata.record == record)
        // Crash right after a write: the accepted record is there, the stale check still holds.
        let next = try NodeMetadata.signed(by: acme.key, ipv4: ["127.0.0.21"], ipv6: [], seq: 101)
        _ = try await h.client.publish(next)
        try await h.restart(signal: SIGKILL)
        let after = try await h.client.fetch(nodeId: acme.id)
        #expect(after.metadata.record == next)
        do {
            _ = try await h.client.publish(record)
            Issue.record("stale record accepted after restart")
        } catch {
            #expect(error.kind == .rejected && error.status == 409)
        }
        #expect(try await h.client.changes(since: 0).changes.count >= 2)

        // Kill -9 in the middle of a stream of writes: the database opens, passes SQLite's
        // integrity check, and holds one of the records that were accepted, intact.
        let key = acme.key
        let client = h.client
        let writer = Task {
            var accepted: [UInt64] = []
            for seq in UInt64(200)..<UInt64(100_000) {
                guard !Task.isCancelled else { break }
                let r = try NodeMetadata.signed(by: key, ipv4: ["127.0.\(seq % 250).1"], ipv6: [], seq: seq)
                guard (try? await client.publish(r)) != nil else { break }
                accepted.append(seq)
            }
            return accepted
        }
        try await Task.sleep(for: .milliseconds(700))
        try await h.restart(signal: SIGKILL)
        writer.cancel()
        let accepted = try await writer.value
        #expect(!accepted.isEmpty)
        let integrity = try Command.run(
            "python3", ["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('pragma integrity_check').fetchone()[0])", h.dbPath])
        #expect(integrity.stdout == "ok\n", "\(integrity.stderr)")
        let survivor = try await h.client.fetch(nodeId: acme.id)
        #expect(survivor.metadata.seq >= accepted.last!, "an acknowledged write was lost")
    }

    @Test func trustFollowsOnChainVerifyNode() async throws {
        let h = try await RegistryHarness("registry-trust")
        defer { h.stop() }
        let acme = h.samples[1]  // registered, not verified, 5 POL stake
        let record = try NodeMetadata.signed(by: acme.key, ipv4: ["127.0.0.30"], ipv6: [], seq: 1)
        let before = try await h.client.publish(record)
        #expect(before.trust == 1 && before.tier == "self-declared" && !before.verified)
        let cursor = try await h.client.changes(since: 0).next
        try await h.devnet.verifyNode(nodeHash: acme.nodeHash)
        let deadline = ContinuousClock.now + .seconds(20)
        var entry = try await h.client.fetch(nodeId: acme.id)
        while entry.trust == 1 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            entry = try await h.client.fetch(nodeId: acme.id)
        }
        #expect(entry.trust == 41)
        #expect(entry.tier == "verified" && entry.verified)
        #expect(try await h.client.changes(since: cursor).changes.map(\.nodeID).contains(acme.nodeID))
    }

    @Test func heartbeatsAndEndorsements() async throws {
        let h = try await RegistryHarness("registry-heartbeat")
        defer { h.stop() }
        let shashi = h.samples[0]
        let bob = h.samples[2]
        let now = Int64(Date().timeIntervalSince1970)
        // No record yet: the registry has no key to check the heartbeat with.
        await #expect(throws: RegistryClientError.self) {
            try await h.client.heartbeat(.signed(by: shashi.key, timestamp: now))
        }
        _ = try await h.client.publish(try .signed(by: shashi.key, ipv4: ["127.0.0.40"], ipv6: [], seq: 1))
        let beat = try await h.client.heartbeat(.signed(by: shashi.key, timestamp: now))
        #expect(beat.trust == 40)  // one slot of 288: 25/288 rounds away
        func postCode(_ path: String, _ value: some Encodable) throws -> (Int, String?) {
            let (status, text) = try h.http("POST", path, body: try JSONEncoder().encode(value))
            return (status, RegistryHarness.errorCode(text))
        }
        #expect(try postCode("/v1/verify", Heartbeat.signed(by: shashi.key, timestamp: now)) == (409, "replay"))
        #expect(try postCode("/v1/verify", Heartbeat.signed(by: shashi.key, timestamp: now + 3600)) == (400, "clock_skew"))
        var forged = Heartbeat.signed(by: shashi.key, timestamp: now + 1)
        forged.timestamp = now + 2
        #expect(try postCode("/v1/verify", forged) == (403, "bad_signature"))
        #expect(try h.http("POST", "/v1/verify", body: Data("[]".utf8)).0 == 400)

        // Endorsement: bob (registered) endorses shashi; bob needs a record for his key.
        let endorse = Endorsement.signed(by: bob.key, endorsing: shashi.id, timestamp: now)
        #expect(try postCode("/v1/endorse", endorse) == (403, "unknown_endorser"))
        _ = try await h.client.publish(try .signed(by: bob.key, ipv4: ["127.0.0.41"], ipv6: [], seq: 1))
        let endorsed = try await h.client.endorse(endorse)
        #expect(endorsed.trust == 40)  // bob is neither verified nor staked: his endorsement does not count

        #expect(try postCode("/v1/endorse", endorse) == (409, "replay"))
        #expect(try postCode("/v1/endorse", Endorsement.signed(by: bob.key, endorsing: bob.id, timestamp: now + 1))
            == (400, "self_endorsement"))
    }
}
