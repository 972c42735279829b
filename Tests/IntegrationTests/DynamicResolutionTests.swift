import Foundation
import NodeRegistry
import Testing
import TestSupport

/// Chain-backed names end to end: real devnet, real registry, real onebzd, dig.
/// One stack per test: tests change chain state (registrations, reorgs, outages).
@Suite(.serialized) struct DynamicResolutionTests {
    @Test func sampleNameAnswersAddressesAndVerifiableTXT() async throws {
        let stack = try await DynamicStack(label: "dyn-sample")
        let shashi = stack.devnet.sample("shashi.1bz")!

        let a = try stack.dig(["shashi.1bz", "A"])
        #expect(a.status == "NOERROR" && a.flags.contains("aa"), "\(a)")
        #expect(Set(a.rdata("A")) == ["192.0.2.10", "192.0.2.11"], "\(a)")
        let aaaa = try stack.dig(["shashi.1bz", "AAAA"])
        #expect(aaaa.rdata("AAAA") == ["2001:db8::10"], "\(aaaa)")

        let txt = try stack.dig(["shashi.1bz", "TXT"]).txt
        #expect(txt["node"] == shashi.nodeID)
        #expect(txt["verified"] == "yes")
        #expect(txt["wallet"] == shashi.wallet.lowercased())
        #expect(txt["trust"].flatMap(Int.init).map { (0...100).contains($0) } == true)
        // A resolver that only has the TXT key can check the node id itself.
        let pk = try #require(txt["pk"])
        #expect(pk.hasPrefix("ed25519:"))
        let key = try #require(Ed25519PublicKey(base64: pk.dropFirst("ed25519:".count)))
        #expect(key.nodeID.hex == txt["node"])

        // The node-id name answers the same node.
        let idName = NodeID(hex: shashi.nodeID)!.dnsName
        let byID = try stack.dig([idName, "A"])
        #expect(Set(byID.rdata("A")) == ["192.0.2.10", "192.0.2.11"], "\(byID)")
        #expect(try stack.dig([idName, "TXT"]).txt["node"] == shashi.nodeID)
    }

    @Test func missingNamesAreNXDOMAINWithSOAAndCaseIsPreserved() async throws {
        let stack = try await DynamicStack(label: "dyn-negative")
        let missing = try stack.dig(["nosuchnode.1bz", "A"])
        #expect(missing.status == "NXDOMAIN" && missing.flags.contains("aa"), "\(missing)")
        #expect(missing.authority.contains { $0.contains(" SOA ") }, "\(missing)")
        #expect(missing.answer.isEmpty)
        // Names below a node name do not exist.
        #expect(try stack.dig(["www.shashi.1bz", "A"]).status == "NXDOMAIN")

        let mixed = try stack.dig(["ShAsHi.1bz", "A"])
        #expect(mixed.status == "NOERROR")
        #expect(mixed.answer.allSatisfy { $0.hasPrefix("ShAsHi.1bz. ") }, "\(mixed)")
        // A type the node has none of: NODATA with the SOA.
        let mx = try stack.dig(["shashi.1bz", "MX"])
        #expect(mx.status == "NOERROR" && mx.answer.isEmpty, "\(mx)")
        #expect(mx.authority.contains { $0.contains(" SOA ") }, "\(mx)")
        // bob.1bz is on chain but published no metadata: TXT answers, A is NODATA.
        let bob = try stack.dig(["bob.1bz", "TXT"]).txt
        #expect(bob["verified"] == "no" && bob["pk"] == nil && bob["wallet"] != nil)
        let bobA = try stack.dig(["bob.1bz", "A"])
        #expect(bobA.status == "NOERROR" && bobA.answer.isEmpty, "\(bobA)")
    }

    @Test func chainAndRegistryChangesAreVisibleWithinOnePoll() async throws {
        let stack = try await DynamicStack(label: "dyn-invalidate")
        let limit = stack.pollInterval * 3 + .seconds(1)

        // Negatively cached first, then registered: visible within a poll.
        #expect(try stack.dig(["newcomer.1bz", "TXT"]).status == "NXDOMAIN")
        let (id, _) = try await stack.registerNewNode("newcomer.1bz", account: 5)
        let registeredDelay = try await stack.eventually(timeout: limit) {
            try stack.dig(["newcomer.1bz", "TXT"]).status == "NOERROR"
        }
        let hash = NodeHash(nodeID: id).hex
        #expect(try stack.dig(["newcomer.1bz", "TXT"]).txt["verified"] == "no")

        // verifyNode flips verified=yes (the answer was cached with a 300 s TTL).
        _ = try await stack.devnet.verifyNode(nodeHash: hash, from: stack.devnet.info.accounts[5])
        let verifiedDelay = try await stack.eventually(timeout: limit) {
            try stack.dig(["newcomer.1bz", "TXT"]).txt["verified"] == "yes"
        }

        // A new signed record in the registry changes the A record.
        #expect(try Set(stack.dig(["acme.1bz", "A"]).rdata("A")) == ["198.51.100.20"])
        try await stack.publishRecord(for: stack.devnet.sample("acme.1bz")!, ipv4: ["198.51.100.99"], ipv6: [], seq: 2)
        let recordDelay = try await stack.eventually(timeout: limit) {
            try stack.dig(["acme.1bz", "A"]).rdata("A") == ["198.51.100.99"]
        }
        print("invalidation delay: registered \(registeredDelay), verified \(verifiedDelay), record \(recordDelay)")
    }

    /// Names the materialised zone holds answer from it through an outage; a name only
    /// the upstreams answer (a node-id name of a node without a registry record: the zone
    /// lists node-id names only from verified records) answers stale when it was cached,
    /// SERVFAIL when not, never NXDOMAIN.
    @Test func rpcOutageServesStaleThenRecoversWithoutRestart() async throws {
        let stack = try await DynamicStack(label: "dyn-outage", positiveTTL: 1)
        let (id, _) = try await stack.registerNewNode("outage.1bz", account: 5)
        let cached = id.dnsName
        let bob = try #require(stack.devnet.sample("bob.1bz"))
        let uncached = try #require(NodeID(hex: bob.nodeID)).dnsName
        _ = try await stack.eventually(timeout: .seconds(10)) { try stack.dig([cached, "TXT"]).status == "NOERROR" }
        #expect(try Set(stack.dig(["shashi.1bz", "A"]).rdata("A")) == ["192.0.2.10", "192.0.2.11"])
        stack.stopProxy()
        try await Task.sleep(for: .milliseconds(1500))  // past the 1 s TTL: only stale data left

        let stale = try stack.dig([cached, "TXT"])
        #expect(stale.status == "NOERROR" && stale.txt["verified"] == "no", "\(stale)")
        #expect(!stale.answer.isEmpty && stale.answer.allSatisfy { $0.split(separator: " ")[1] == "30" }, "stale TTL is 30: \(stale)")
        // Never NXDOMAIN because the chain is down: an uncached name gets SERVFAIL.
        let failed = try stack.dig([uncached, "TXT"])
        #expect(failed.status == "SERVFAIL", "\(failed)")
        // The zone's records need no upstream: answered as they are at the processed block.
        let held = try stack.dig(["shashi.1bz", "A"])
        #expect(held.status == "NOERROR" && Set(held.rdata("A")) == ["192.0.2.10", "192.0.2.11"], "\(held)")
        // A name not registered at the processed block: NXDOMAIN from the complete name
        // set, with no chain call to fail.
        let unknown = try stack.dig(["neverseen.1bz", "A"])
        #expect(unknown.status == "NXDOMAIN", "\(unknown)")

        try await stack.restartProxy()
        _ = try await stack.eventually(timeout: .seconds(10)) {
            try stack.dig([uncached, "TXT"]).txt["verified"] == "no"
        }
        #expect(try stack.dig(["neverseen.1bz", "A"]).status == "NXDOMAIN")
    }

    @Test func forgedRegistryRecordNeverReachesAnAnswer() async throws {
        // A fake registry (fault injection) serving shashi's record re-signed by another key.
        let honest = try await DynamicStack(label: "dyn-forged-honest")
        let shashi = honest.devnet.sample("shashi.1bz")!
        let attacker = Ed25519PrivateKey(seed: Array(repeating: 7, count: 32))
        var forged = try NodeMetadata.signed(by: attacker, ipv4: ["203.0.113.66"], ipv6: [], seq: 99)
        forged.nodeID = shashi.nodeID  // claims to be shashi, key does not hash to it
        let entry = RegistryEntry(
            record: forged, nodeHash: NodeHash(hex: shashi.nodeHash)!, trust: 100, tier: "gold", registered: true, verified: true,
            stakeWei: "0", updatedAt: 0)
        let body = try JSONEncoder().encode(entry)
        let fake = try FakeRegistry(serving: body, directory: honest.directory)

        let stack = try await DynamicStack(label: "dyn-forged", registryURL: fake.baseURL, publish: false)
        let a = try stack.dig(["shashi.1bz", "A"])
        #expect(a.status == "NOERROR" && a.answer.isEmpty, "forged address served: \(a)")
        let txt = try stack.dig(["shashi.1bz", "TXT"]).txt
        #expect(txt["pk"] == nil && txt["trust"] == nil)
        #expect(txt["verified"] == "yes")  // chain facts still answer
        _ = fake
    }

    @Test func reorgIsReflectedAfterTheFollowerCatchesUp() async throws {
        let stack = try await DynamicStack(label: "dyn-reorg")
        let snapshot = try await stack.devnet.snapshot()
        try await stack.registerNewNode("ephemeral.1bz", account: 6)
        _ = try await stack.eventually { try stack.dig(["ephemeral.1bz", "TXT"]).status == "NOERROR" }
        // The registration's block is orphaned: the new chain is longer and lacks it.
        try await stack.devnet.revert(to: snapshot)
        try await stack.devnet.mine(3)
        _ = try await stack.eventually(timeout: .seconds(10)) {
            try stack.dig(["ephemeral.1bz", "TXT"]).status == "NXDOMAIN"
        }
        #expect(try stack.dig(["shashi.1bz", "TXT"]).txt["verified"] == "yes")
    }

    @Test func concurrentQueriesForOneUncachedNameCauseOneChainLookup() async throws {
        let stack = try await DynamicStack(label: "dyn-singleflight")
        // Settled first: the registry's first changes (the sample records, published before
        // onebzd started) make the materialiser resolve those names again after the zone
        // went live; on a loaded machine that landed in the burst (CI: 2 calls). Counted
        // once no eth_call came for a second.
        var before = try stack.rpcCount("eth_call")
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(1))
            let now = try stack.rpcCount("eth_call")
            if now == before { break }
            before = now
        }
        // A name only the upstreams answer (the zone answers its aliases itself): the
        // node-id name of bob.1bz, which publishes no record.
        let sample = try #require(stack.devnet.sample("bob.1bz"))
        let bob = try #require(NodeID(hex: sample.nodeID)).dnsName
        // Counted twice: the eth_calls seen by the proxy, and the lookups onebzd's miss
        // path made (`onebz_upstream_lookups_total`). The materialiser reads the chain
        // through the same proxy but not through the miss path: a late one of its reads
        // adds to the first count only. Each lookup is one eth_call. (CI, a slow hour: 2
        // lookups, a real race: a query that missed the cache just before the first
        // lookup stored its facts started a flight of its own once that one had ended;
        // the flight now looks at the cache again before it goes upstream.)
        let lookupsBefore = try stack.metric("onebz_upstream_lookups_total")
        let queries = (0..<1000).map { RawDNSClient.query(bob, .a, id: UInt16($0)) }
        let answers = try RawDNSClient(port: stack.onebzd.port).udpBurst(queries)
        #expect(answers.count == 1000, "every query answered")
        #expect(answers.allSatisfy { $0.count > 12 && $0[3] & 0x0f == 0 }, "all NOERROR")
        let lookups = try stack.metric("onebz_upstream_lookups_total") - lookupsBefore
        let calls = try stack.rpcCount("eth_call") - before
        #expect(lookups == 1, "1000 concurrent queries started \(lookups) lookup(s) (eth_calls seen: \(calls))")
        #expect(calls >= 1, "the lookup asked the chain")
    }
}

/// A registry stand-in that serves one fixed body for every GET (fault injection:
/// a registry that lies). python3 -m http.server is not enough: it serves files by path.
final class FakeRegistry: Sendable {
    let process: ManagedProcess
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }

    init(serving body: Data, directory: URL) throws {
        port = FreePort.next()
        let bodyFile = directory.appendingPathComponent("fake-registry-body.json")
        try body.write(to: bodyFile)
        let script = """
            import http.server, sys
            body = open(sys.argv[2], 'rb').read()
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    if self.path.startswith('/v1/changes'):
                        out = b'{"changes":[],"next":0}'
                    else:
                        out = body
                    self.send_response(200)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                def log_message(self, *a): pass
            http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
            """
        process = try ManagedProcess(
            name: "fake-registry", executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: ["python3", "-c", script, "\(port)", bodyFile.path], logDirectory: directory)
        while !FreePort.isAcceptingTCP(port: port) {
            guard process.isRunning else { throw TestProcessError("fake registry died: \(process.stderr())") }
            usleep(20_000)
        }
    }

    deinit { process.stop() }
}
