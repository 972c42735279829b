import DNSWire
import Foundation
import NodeRegistry
import Testing
import TestSupport

/// The materialised zone end to end (docs/dynamic.md): the real onebzd on the devnet and
/// registry, every eth_call counted by the proxy in front of the devnet.
@Suite("MaterializedZone (integration)", .serialized, .timeLimit(.minutes(5)))
struct MaterializedZoneIntegrationTests {
    /// Waits until the zone went live (every name materialised): the gauge appears.
    static func waitUntilLive(_ stack: DynamicStack) async throws {
        _ = try await stack.eventually(timeout: .seconds(60)) {
            try stack.get("/metrics").body.contains("onebz_zone_serial")
        }
    }

    /// Many queries in one dig run: (name, status) per query, in order.
    static func statuses(_ stack: DynamicStack, _ names: [String], type: String = "TXT") throws -> [String] {
        let arguments = names.flatMap { [$0, type] }
        let result = try Command.run(
            "dig", ["@127.0.0.1", "-p", "\(stack.onebzd.port)", "+norec", "+time=3", "+tries=1", "+nocmd", "+nostats"]
                + arguments)
        return result.stdout.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "status: ") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "," })
        }
    }

    @Test func unregisteredNamesAreNXDOMAINWithoutEthCallsAndARegistrationAppearsWithinOnePoll() async throws {
        let stack = try await DynamicStack(label: "mat-absence")
        try await Self.waitUntilLive(stack)
        let before = try stack.rpcCount("eth_call")
        let run = UInt32.random(in: 0...UInt32.max)
        let names = (0..<300).map { "flood-\(run)-\($0).1bz" }
        var statuses: [String] = []
        for batch in stride(from: 0, to: names.count, by: 50) {
            statuses += try Self.statuses(stack, Array(names[batch..<batch + 50]))
        }
        #expect(statuses.count == names.count && statuses.allSatisfy { $0 == "NXDOMAIN" })
        // Node-id names of unknown nodes, too.
        let id = String(repeating: "a", count: 52) + ".id.1bz"
        #expect(try stack.dig([id, "A"]).status == "NXDOMAIN")
        #expect(try stack.rpcCount("eth_call") == before, "no eth_call for an unregistered name")

        // A registration: NXDOMAIN before, answered within one poll of its block.
        let fresh = "fresh-\(run).1bz"
        #expect(try stack.dig([fresh, "TXT"]).status == "NXDOMAIN")
        try await stack.registerNewNode(fresh, account: 3)
        let took = try await stack.eventually(timeout: .seconds(10)) {
            try stack.dig([fresh, "TXT"]).status == "NOERROR"
        }
        print("materialised: registration answered \(took) after its block was mined (poll \(stack.pollInterval))")
        #expect(try stack.dig([fresh, "TXT"]).txt["verified"] == "no")

        // Issue 21, finding 1: variants of a registered name, registered from another
        // account, are not 1bz names. Before the rule, shashi.1bz was NXDOMAIN 6 s later.
        let shashi = try stack.dig(["shashi.1bz", "A"])
        #expect(shashi.status == "NOERROR")
        for variant in ["SHASHI.1bz", "Shashi.1bz", "shashi.1bz."] {
            _ = try await stack.registerNewNode(variant, account: 4)
        }
        // A canary registered after them: once it answers, the variants' blocks were applied.
        let canary = "canary-\(run).1bz"
        try await stack.registerNewNode(canary, account: 3)
        _ = try await stack.eventually(timeout: .seconds(10)) { try stack.dig([canary, "TXT"]).status == "NOERROR" }
        let after = try stack.dig(["shashi.1bz", "A"])
        #expect(after.status == "NOERROR" && Set(after.answer) == Set(shashi.answer) && !after.answer.isEmpty, "\(after)")
        #expect(try stack.dig(["SHASHI.1bz", "A"]).status == "NOERROR")
    }

    /// `onebzd zone dump` writes what onebzd answers: for every node name in the file,
    /// dig of each type gives exactly the file's records; ldns and NSD accept the file.
    @Test func zoneDumpEqualsWhatOnebzdAnswers() async throws {
        let stack = try await DynamicStack(label: "mat-dump")
        try await Self.waitUntilLive(stack)
        let output = stack.directory.appendingPathComponent("dump.zone").path
        let dump = try await Command.runAsync(
            Repo.product("onebzd").path,
            ["zone", "dump", "--config", stack.directory.appendingPathComponent("onebzd.toml").path, "--output", output])
        try #require(dump.status == 0, "zone dump failed: \(dump.stderr)")
        let ldns = try Command.run("ldns-read-zone", ["-q", output])
        #expect(ldns.status == 0, "ldns-read-zone: \(ldns.stderr)")
        let nsd = try Command.run("nsd-checkzone", ["1bz", output])
        #expect(nsd.status == 0, "nsd-checkzone: \(nsd.stdout) \(nsd.stderr)")

        let text = try String(contentsOfFile: output, encoding: .utf8)
        var byOwnerType: [String: Set<String>] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 5 else { continue }
            let key = fields[0].lowercased() + " " + fields[3]
            byOwnerType[key, default: []].insert(fields[4...].joined(separator: " "))
        }
        #expect(text.hasPrefix("1bz.") && text.split(separator: "\n").first?.contains("SOA") == true)
        let nodeNames = Set(byOwnerType.keys.compactMap { key -> String? in
            let owner = String(key.split(separator: " ")[0])
            let labels = owner.split(separator: ".")
            let isNode = (labels.count == 2 && byOwnerType[owner + " TXT"] != nil)
                || (labels.count == 3 && labels[1] == "id")
            return isNode ? owner : nil
        })
        #expect(nodeNames.contains("shashi.1bz.") && nodeNames.contains("acme.1bz."))
        #expect(nodeNames.contains { $0.hasSuffix(".id.1bz.") }, "published nodes are listed by node id too")
        for owner in nodeNames.sorted() {
            for type in ["A", "AAAA", "TXT"] {
                let answered = Set(try stack.dig([owner, type]).answer.map { line in
                    line.split(separator: " ").dropFirst(4).joined(separator: " ")
                })
                #expect(answered == byOwnerType[owner + " " + type, default: []], "\(owner) \(type)")
            }
        }
        // Unregistered names are not in the file and NXDOMAIN.
        #expect(!text.contains("nobody.1bz"))
        #expect(try stack.dig(["nobody.1bz", "A"]).status == "NXDOMAIN")
    }

    /// A cold start in bulk (facts from the events, records from the registry's export)
    /// builds the zone per-node lookups build, byte for byte: `onebzd zone dump` once
    /// each way over the same registrations (the samples; names with and without a
    /// record, verified, staked, with AAAA; a name that is no node name), the bulk one
    /// without an eth_call.
    @Test func bulkColdStartDumpsTheZonePerNodeLookupsDump() async throws {
        let stack = try await DynamicStack(label: "mat-bulk")
        let run = UInt32.random(in: 0...UInt32.max)
        let client = RegistryClient(baseURL: stack.registryBaseURL, timeout: .seconds(5))
        var names: [String] = []
        for index in 0..<8 {
            let name = "bulk\(index)-\(run).1bz"
            let account = 3 + index % 3
            let (id, key) = try await stack.registerNewNode(name, account: account)
            let hash = NodeHash(nodeID: id).hex
            if index % 3 == 0 { _ = try await stack.devnet.verifyNode(nodeHash: hash) }
            if index % 4 == 1 {
                _ = try await stack.devnet.addStake(nodeHash: hash, amount: 2 * Devnet.ether, from: stack.devnet.info.accounts[account])
            }
            if index != 5 {  // 5 publishes no record
                let v6 = index % 2 == 0 ? ["2001:db8::\(index + 1)"] : []
                _ = try await client.publish(
                    try NodeMetadata.signed(by: key, ipv4: ["192.0.2.\(100 + index)"], ipv6: v6, seq: 1))
            }
            names.append(name)
        }
        try await stack.registerNewNode("Upper-\(run).1bz", account: 3)  // not a node name: listed by id only when published
        await client.shutdown()
        // The running onebzd has materialised all of it (its change feed included).
        _ = try await stack.eventually(timeout: .seconds(30)) {
            try stack.dig([names[6], "AAAA"]).answer.count == 1 && stack.dig([names[7], "A"]).answer.count == 1
        }

        let base = try String(contentsOf: stack.directory.appendingPathComponent("onebzd.toml"), encoding: .utf8)
        // Each dump asks the chain through a proxy of its own: the running onebzd's
        // background calls (a revalidation, a late lookup) are not the dump's.
        func dump(_ label: String, threshold: Int) async throws -> (zone: String, log: String, ethCalls: Int) {
            let proxy = try await stack.separateProxy(label)
            defer { _ = proxy.process.stop() }
            let config = stack.directory.appendingPathComponent("onebzd-\(label).toml")
            try base.replacingOccurrences(of: "[chain]\n", with: "[chain]\nmaterialize_bulk_threshold = \(threshold)\n")
                .replacingOccurrences(of: "http://127.0.0.1:\(stack.proxyPort)", with: proxy.url)
                .write(to: config, atomically: true, encoding: .utf8)
            let output = stack.directory.appendingPathComponent("dump-\(label).zone").path
            let result = try await Command.runAsync(
                Repo.product("onebzd").path, ["zone", "dump", "--config", config.path, "--output", output])
            try #require(result.status == 0, "zone dump (\(label)) failed: \(result.stderr)")
            return (
                try String(contentsOfFile: output, encoding: .utf8), result.stderr,
                try DynamicStack.rpcCount("eth_call", stats: proxy.stats)
            )
        }
        let perNode = try await dump("per-node", threshold: 1_000_000_000)
        let bulk = try await dump("bulk", threshold: 0)
        #expect(!perNode.log.contains("materialised in bulk") && perNode.ethCalls > 0)
        #expect(bulk.log.contains("materialised in bulk"), "\(bulk.log.suffix(2000))")
        #expect(bulk.ethCalls == 0, "the bulk path reads no node with eth_call")
        #expect(bulk.zone == perNode.zone, "the zones differ")
        for name in names { #expect(bulk.zone.contains(name + "."), "\(name) is in the zone") }
        #expect(bulk.zone.contains("2001:db8::7"), "AAAA of a published name")
        print("bulk cold start: zone of \(bulk.zone.split(separator: "\n").count) lines identical; eth_calls per node \(perNode.ethCalls), bulk \(bulk.ethCalls)")
    }

    /// Issue 23 (docs/dynamic.md#answers-from-the-zone): once the zone is live, a
    /// registered name's first query is answered from the zone's records, without an
    /// eth_call, in the bytes the upstream path gives for it; a registry change stops
    /// the zone's old records from answering (the new address is answered, the old one
    /// never again).
    @Test func zoneHeldNamesAnswerFromTheZoneWithoutEthCalls() async throws {
        let stack = try await DynamicStack(label: "mat-zone-answers")
        try await Self.waitUntilLive(stack)
        let shashiHex = try #require(stack.devnet.sample("shashi.1bz")).nodeID
        let shashiID = try #require(NodeID(hex: shashiHex)).dnsName
        // waitUntilReady asked shashi.1bz TXT (before the zone was live): not asked below.
        let queries: [(String, RRType)] = [
            ("acme.1bz", .a), ("acme.1bz", .txt), ("acme.1bz", .aaaa), ("ACME.1bz", .any), ("_443._tcp.acme.1bz", .tlsa),
            ("shashi.1bz", .a), ("shashi.1bz", .aaaa), ("shashi.1bz", .mx), ("bob.1bz", .txt), ("bob.1bz", .a),
            (shashiID, .a), (shashiID, .txt),
        ]
        let raw = RawDNSClient(port: stack.onebzd.port)
        func ask() throws -> [[UInt8]] {
            try queries.enumerated().map { index, query in
                try #require(try raw.udp(RawDNSClient.query(query.0, query.1, id: UInt16(100 + index))), "\(query)")
            }
        }
        let ethCalls = try stack.rpcCount("eth_call")
        let lookups = try stack.metric("onebz_upstream_lookups_total")
        let zoneAnswers = try stack.metric("onebz_dynamic_zone_answers_total")
        let fromZone = try ask()
        #expect(try stack.rpcCount("eth_call") == ethCalls, "a zone-held name's first query made an eth_call")
        #expect(try stack.metric("onebz_upstream_lookups_total") == lookups)
        // Every one a miss the zone answered; shashi.1bz's three may have been rendered
        // from the facts waitUntilReady's TXT query cached, if it went upstream.
        let answeredByZone = try stack.metric("onebz_dynamic_zone_answers_total") - zoneAnswers
        #expect(answeredByZone >= Double(queries.count - 3), "\(answeredByZone) of \(queries.count) from the zone")
        let acmeA = try Message(decoding: fromZone[0])
        #expect(acmeA.rcode == .noError && acmeA.answers.map(\.rdata) == [[198, 51, 100, 20]], "\(acmeA)")

        // The upstream path for the same names: the JSON gateway's lookup asks the
        // upstreams (a zone-rendered entry holds no facts) and caches the facts, from
        // which DNS then renders every type again.
        for name in ["acme.1bz", "shashi.1bz", "bob.1bz", shashiHex + ".1bz"] {
            #expect(try stack.get("/resolve?name=\(name)").status == 200, "\(name)")
        }
        #expect(try stack.rpcCount("eth_call") > ethCalls, "the gateway's lookups went upstream")
        let fromFacts = try ask()
        for (index, query) in queries.enumerated() {
            #expect(fromZone[index] == fromFacts[index], "\(query): the zone's answer differs from the upstream path's")
        }

        // A registry change: the zone's old records stop answering (marked before the
        // cache drops them), the new address is answered within a poll or two.
        let acme = try #require(stack.devnet.sample("acme.1bz"))
        try await stack.publishRecord(for: acme, ipv4: ["198.51.100.99"], ipv6: ["2001:db8::99"], seq: 2)
        let took = try await stack.eventually(timeout: .seconds(10)) {
            try stack.dig(["acme.1bz", "A"]).answer.contains { $0.hasSuffix("198.51.100.99") }
        }
        print("zone answers: the registry change answered \(took) after its publication")
        // Once the zone committed the node's new records, its answers come from them:
        // AAAA (not asked since the change) gets the new address, and never the old one.
        _ = try await stack.eventually(timeout: .seconds(10)) {
            try stack.dig(["acme.1bz", "AAAA"]).answer.contains { $0.hasSuffix("2001:db8::99") }
        }
        for _ in 0..<10 {
            let a = try stack.dig(["acme.1bz", "A"])
            #expect(a.status == "NOERROR" && a.answer.count == 1 && a.answer[0].hasSuffix("198.51.100.99"), "\(a)")
            #expect(try stack.dig(["acme.1bz", "TXT"]).status == "NOERROR")
        }
    }
}
