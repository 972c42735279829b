import Foundation
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
}
