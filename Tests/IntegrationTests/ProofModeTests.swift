import Foundation
import NodeRegistry
import TestSupport
import Testing

/// Verified chain reads (`chain.verify = "proof"`, docs/chain.md) against the real onebzd,
/// three RPC endpoints (fault proxies before one devnet) and a quorum of two. The
/// preferred endpoint tells well-formed lies: each is detected, none is ever answered,
/// the honest endpoints keep serving, and it recovers without a restart.
@Suite(.serialized) struct ProofModeTests {
    static let shashiV4: Set<String> = ["192.0.2.10", "192.0.2.11"]

    static func stack(_ label: String, httpPort: Int? = nil) async throws -> FaultStack {
        try await FaultStack(
            label: label, endpoints: 3, chainTimeout: "1s",
            chainSettings: """
                verify = "proof"
                quorum = 2
                storage_layout = "vyper"
                """, httpPort: httpPort)
    }

    @Test func answersAreProvenAndMatchCallMode() async throws {
        let stack = try await Self.stack("proof-basic")
        let a = try stack.dig(["shashi.1bz", "A"])
        #expect(a.status == "NOERROR" && Set(a.rdata("A")) == Self.shashiV4, "\(a)")
        let txt = try stack.dig(["shashi.1bz", "TXT"]).txt
        #expect(txt["verified"] == "yes", "\(txt)")
        #expect(try stack.dig(["acme.1bz", "TXT"]).txt["verified"] == "no")
        #expect(try stack.dig(["nobody.1bz", "A"]).status == "NXDOMAIN")
        // Proof mode reads storage, never eth_call.
        #expect(stack.rpc.map { $0.count("eth_getProof") }.reduce(0, +) > 0)
        #expect(stack.rpc.map { $0.count("eth_call") }.reduce(0, +) == 0)
        // A miss is one eth_getProof (a free name; a node id), also at a new block: the
        // follower agreed on the block before the miss (or the proof rides along in the
        // preferred endpoint's header request).
        try await stack.devnet.mine(1)
        try await Task.sleep(for: .milliseconds(1200))
        let idName = NodeID(hex: stack.devnet.sample("bob.1bz")!.nodeID)!.dnsName
        for name in ["onerequest.1bz", idName] {
            let proofs = stack.rpc.map { $0.count("eth_getProof") }.reduce(0, +)
            _ = try stack.dig([name, "TXT"])
            #expect(stack.rpc.map { $0.count("eth_getProof") }.reduce(0, +) == proofs + 1, "\(name)")
        }
    }

    @Test func evidenceBundleIsCheckedByOnebzVerify() async throws {
        let http = FreePort.next()
        let stack = try await Self.stack("proof-bundle", httpPort: http)
        let gateway = "http://127.0.0.1:\(http)"
        let onebz = Repo.product("onebz").path
        let (status, body) = try Self.get("\(gateway)/resolve?name=shashi.1bz&proof=1")
        #expect(status == 200, "\(body)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let proof = try #require(json["proof"] as? [String: Any])
        #expect(proof["storage_layout"] as? String == "vyper")
        #expect((proof["block"] as? [String: Any])?["state_root"] != nil)
        #expect(proof["name_proof"] != nil && proof["node_proof"] != nil && proof["record"] != nil)

        // Checked against the user's own endpoint (here: the devnet directly).
        let rpc = stack.devnet.rpcURL.absoluteString
        for name in ["shashi.1bz", "acme.1bz", "bob.1bz", stack.devnet.sample("shashi.1bz")!.nodeID + ".1bz"] {
            let ok = try Command.run(onebz, ["verify", name, "--gateway", gateway, "--rpc", rpc])
            #expect(ok.status == 0 && ok.stdout.contains("proof checked at block"), "\(name): \(ok.stdout) \(ok.stderr)")
        }
        // An endpoint that reports another hash for the block: the bundle is rejected.
        try stack.rpc[2].inject(.otherHash)
        let bad = try Command.run(onebz, ["verify", "shashi.1bz", "--gateway", gateway, "--rpc", stack.rpc[2].url])
        #expect(bad.status != 0 && bad.stderr.contains("REJECTED"), "\(bad.stdout) \(bad.stderr)")
        try stack.rpc[2].inject(.pass)
        // Nonexistent names have no bundle.
        #expect(try Self.get("\(gateway)/resolve?name=nobody.1bz&proof=1").0 == 404)
    }

    static func get(_ url: String) throws -> (Int, String) {
        let r = try Command.run("curl", ["-s", "-w", "\n%{http_code}", url])
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// (fault, its control extras, what onebzd's log says about it).
    static let lies: [(FaultProxy.Fault, [String: String], String)] = [
        (.rewriteCall, [:], ""),  // proof mode makes no eth_call: nothing to see
        (.proofOtherBlock, ["block": "0x1"], "does not verify"),
        (.forgeProof, [:], "does not verify"),
        // Another hash (and root) for the block: its fields do not hash to it; the
        // follower (which follows the liar) is told its blocks are not the quorum's.
        (.otherHash, [:], "does not hash to its hash"),
        (.forgeStateRoot, [:], "does not hash to its hash"),
        (.withhold, ["head": "1"], ""),
    ]

    @Test func lyingPreferredEndpointIsNeverAnswered() async throws {
        let stack = try await Self.stack("proof-liar")
        let liar = stack.rpc[0]
        #expect(try Set(stack.dig(["shashi.1bz", "A"]).rdata("A")) == Self.shashiV4)
        for (index, (fault, extra, logText)) in Self.lies.enumerated() {
            try await Self.preferFirstEndpoint(stack)
            let mark = stack.logLength
            let injected = liar.count("fault:\(fault.rawValue)")
            try liar.inject(fault, methods: fault == .rewriteCall ? ["eth_call"] : nil, extra: extra)
            try await stack.devnet.mine(1)  // a new block: agreed afresh, with the liar voting
            try await Task.sleep(for: .milliseconds(1200))  // past the 1 s TTL
            for name in ["shashi.1bz", "acme.1bz"] {
                let txt = try stack.dig([name, "TXT"])
                #expect(txt.status == "NOERROR", "\(fault): \(name) \(txt)")
                #expect(txt.txt["wallet"] != nil, "\(fault): \(txt)")
            }
            let a = try stack.dig(["shashi.1bz", "A"])
            #expect(a.status == "NOERROR" && Set(a.rdata("A")) == Self.shashiV4, "\(fault): \(a)")
            #expect(try stack.dig(["shashi.1bz", "TXT"]).txt["verified"] == "yes", "\(fault)")
            let missing = try stack.dig(["lie\(index).1bz", "A"])
            #expect(missing.status == "NXDOMAIN", "\(fault): proven absent by the honest endpoints: \(missing)")
            if !logText.isEmpty {
                do { try await stack.eventually { stack.log(since: mark).contains(logText) } } catch {
                    Issue.record("\(fault): no log line with \"\(logText)\"")
                }
            }
            if fault == .otherHash {
                do { try await stack.eventually { stack.log(since: mark).contains("quorum does not agree with") } } catch {
                    Issue.record("\(fault): the follower believed the liar's blocks")
                }
            }
            // The liar was asked (and lied), except for eth_call, which proof mode never sends.
            if fault == .rewriteCall {
                #expect(liar.count("fault:\(fault.rawValue)") == injected && liar.count("eth_call") == 0, "eth_call sent")
            } else {
                #expect(liar.count("fault:\(fault.rawValue)") > injected, "\(fault): the liar was never asked")
            }
            try liar.inject(.pass)
        }
        // Recovery without a restart: the liar is honest again and votes with the rest.
        try await stack.devnet.mine(1)
        try await Task.sleep(for: .milliseconds(1200))
        #expect(try stack.dig(["after.1bz", "A"]).status == "NXDOMAIN")
        #expect(try Set(stack.dig(["shashi.1bz", "A"]).rdata("A")) == Self.shashiV4)
        #expect(stack.onebzd.process.isRunning)
    }

    @Test func reorgIsFollowedByNewAgreedBlocks() async throws {
        let httpPort = FreePort.next()
        let stack = try await Self.stack("proof-reorg", httpPort: httpPort)
        #expect(try Set(stack.dig(["shashi.1bz", "A"]).rdata("A")) == Self.shashiV4)
        let snapshot = try await stack.devnet.snapshot()
        let before = try await stack.devnet.blockNumber()
        try await stack.devnet.mine(3)
        try await stack.eventually { (try ChainStatus.head(httpPort: httpPort) ?? 0) >= before + 3 }
        #expect(try stack.dig(["pre-reorg.1bz", "A"]).status == "NXDOMAIN")  // agreed at before + 3
        // The same block numbers come back with other hashes and state roots.
        try await stack.devnet.revert(to: snapshot)
        try await Task.sleep(for: .seconds(1))
        try await stack.devnet.mine(8)
        try await stack.eventually { stack.log().contains("chain reorganised") }
        try await Task.sleep(for: .milliseconds(1200))
        try await stack.eventually { try stack.dig(["post-reorg.1bz", "A"]).status == "NXDOMAIN" }
        #expect(try Set(stack.dig(["shashi.1bz", "A"]).rdata("A")) == Self.shashiV4)
    }

    /// Makes rpc[0] the preferred endpoint of the failover client again: a failure of
    /// the preferred endpoint moves the preference on by one, so rpc[1] and rpc[2] fail
    /// briefly while a miss (a name never asked) goes through the failover client (in
    /// proof mode the follower asks every endpoint for its head, not the failover client).
    static func preferFirstEndpoint(_ stack: FaultStack) async throws {
        for other in stack.rpc.dropFirst() { try other.inject(.reset) }
        try await Task.sleep(for: .milliseconds(300))
        _ = try? stack.dig(["prefer\(UInt32.random(in: 0...UInt32.max)).1bz", "A"])
        try await Task.sleep(for: .milliseconds(600))
        for other in stack.rpc.dropFirst() { try other.inject(.pass) }
    }

    /// Without a quorum for new blocks the follower reports none of them: answers stay
    /// proven at the last agreed block (`/status/chain` says which), never a guess; with
    /// the quorum back, they move on.
    @Test func noQuorumHoldsAnswersAtTheLastAgreedBlock() async throws {
        let httpPort = FreePort.next()
        let stack = try await Self.stack("proof-noquorum", httpPort: httpPort)
        #expect(try Set(stack.dig(["shashi.1bz", "A"]).rdata("A")) == Self.shashiV4)
        let head = try await stack.devnet.blockNumber()
        try await stack.eventually { try ChainStatus.head(httpPort: httpPort) == head }
        let mark = stack.logLength
        try stack.rpc[0].inject(.otherHash)
        try stack.rpc[1].inject(.reset)
        try await stack.devnet.mine(1)
        try await stack.eventually { stack.log(since: mark).contains("no block agreement") }
        try await Task.sleep(for: .milliseconds(1200))
        #expect(try ChainStatus.head(httpPort: httpPort) == head, "the follower moved to a block no quorum agrees on")
        #expect(try Set(stack.dig(["shashi.1bz", "A"]).rdata("A")) == Self.shashiV4)
        #expect(try stack.dig(["noquorum.1bz", "A"]).status == "NXDOMAIN")  // proven at `head`
        try stack.rpc[0].inject(.pass)
        try stack.rpc[1].inject(.pass)
        try await stack.devnet.mine(1)
        try await stack.eventually { (try ChainStatus.head(httpPort: httpPort) ?? 0) >= head + 2 }
        #expect(try stack.dig(["noquorum2.1bz", "A"]).status == "NXDOMAIN")
    }
}
