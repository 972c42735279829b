import ChainReader
import Foundation
import TestSupport
import Testing

/// ProvenRegistry against the devnet: proven reads agree with eth_call, at the head and
/// at an older block; and (with ONEBZ_PROOF_BENCH=1) the numbers for docs/chain.md.
@Suite struct ProvenRegistryIntegrationTests {
    static func proven(_ devnet: Devnet, endpoints: Int = 1) -> ProvenRegistry {
        proven(devnet, urls: Array(repeating: devnet.rpcURL, count: endpoints))
    }

    static func proven(_ devnet: Devnet, urls: [URL]) -> ProvenRegistry {
        let configuration = JSONRPCClient.Configuration(endpoints: urls)
        return ProvenRegistry(
            client: JSONRPCClient(configuration: configuration),
            address: EthereumAddress(hex: devnet.contractAddress)!, layout: .vyper,
            blocks: BlockAgreement(endpoints: BlockAgreement.clients(for: urls, template: configuration)))
    }

    @Test func provenReadsAgreeWithEthCall() async throws {
        let devnet = try await SharedDevnet.get()
        let call = SharedDevnet.registry(devnet)
        let proven = Self.proven(devnet, endpoints: 3)
        let head = try await call.blockNumber()
        for pass in ["first (two requests)", "again (one request, with the remembered hash)"] {
            for name in ["shashi.1bz", "acme.1bz", "bob.1bz", "nobody.1bz"] {
                let expected = try await call.lookup(name, at: .number(head))
                let got = try await proven.lookup(name, at: head)
                #expect(got == expected, "\(pass): \(name)")
            }
        }
        // A name longer than one storage word (two requests for its node).
        let long = TestNode(prefix: String(repeating: "long", count: 10))
        _ = try await devnet.registerNode(nodeHash: long.nodeHash.hex, name: long.name)
        let now = try await call.blockNumber()
        let expectedLong = try await call.lookup(long.name, at: .number(now))
        #expect(expectedLong != nil)
        #expect(try await proven.lookup(long.name, at: now) == expectedLong)
        #expect(try await proven.lookup(long.name, at: now) == expectedLong, "again, with its hint")
        // Before the sample registrations: every name is proven free.
        #expect(try await proven.lookup("shashi.1bz", at: devnet.deployBlock) == nil)
        let block = try await proven.blocks.agreed(head)
        #expect(block.endpoints.count == 3)
    }

    /// HTTP requests per miss, counted by a proxy (tools/faultproxy.py) before the devnet:
    /// one where the slots are known up front (a node id, a free name, an alias with a
    /// right hint), also at a block not agreed yet (the proof rides in the header's
    /// request); two for an alias without a hint or with a wrong one (still right).
    @Test func requestsPerMiss() async throws {
        let devnet = try await SharedDevnet.get()
        let call = SharedDevnet.registry(devnet)
        let proxy = try await FaultProxy(
            name: "counting", targetPort: devnet.port, directory: try Repo.scratchDirectory("proof-requests"))
        let proven = Self.proven(devnet, urls: [URL(string: proxy.url)!])
        let shashi = Bytes32(hex: devnet.sample("shashi.1bz")!.nodeHash)!
        let acme = Bytes32(hex: devnet.sample("acme.1bz")!.nodeHash)!
        func requests(_ label: String, _ body: () async throws -> Void) async throws -> (http: Int, batches: Int) {
            let (http, batches) = (proxy.count("http_requests"), proxy.count("batch"))
            try await body()
            return (proxy.count("http_requests") - http, proxy.count("batch") - batches)
        }
        func expectLookup(_ name: String, at block: UInt64) async throws {
            let expected = try await call.lookup(name, at: .number(block))
            #expect(try await proven.lookup(name, at: block) == expected, "\(name)")
        }

        try await devnet.mine(1)
        var head = try await call.blockNumber()
        // A new block: the header and the proof in one batch, one HTTP request.
        let expectedNode = try await call.node(shashi, at: .number(head))
        var counted = try await requests("node id, new block") {
            let node = try await proven.node(shashi, at: head)
            #expect(node == expectedNode)
        }
        #expect(counted == (1, 1), "node id at a new block: \(counted)")
        counted = try await requests("alias, no hint") { try await expectLookup("acme.1bz", at: head) }
        #expect(counted == (2, 0), "alias without a hint: \(counted)")
        counted = try await requests("alias, learned hint") { try await expectLookup("acme.1bz", at: head) }
        #expect(counted == (1, 0), "alias with the hint its first lookup left: \(counted)")
        proven.hint(name: "bob.1bz", nodeHash: Bytes32(hex: devnet.sample("bob.1bz")!.nodeHash)!)
        counted = try await requests("alias, fed hint") { try await expectLookup("bob.1bz", at: head) }
        #expect(counted == (1, 0), "alias with a fed hint: \(counted)")
        proven.hint(name: "shashi.1bz", nodeHash: acme)  // wrong (stale, or fed wrong)
        counted = try await requests("alias, wrong hint") { try await expectLookup("shashi.1bz", at: head) }
        #expect(counted == (2, 0), "alias with a wrong hint: \(counted)")
        counted = try await requests("alias, corrected hint") { try await expectLookup("shashi.1bz", at: head) }
        #expect(counted == (1, 0), "the wrong hint was replaced by the proven hash: \(counted)")
        counted = try await requests("free name") { try await expectLookup("nobody-\(head).1bz", at: head) }
        #expect(counted == (1, 0), "a free name: \(counted)")

        try await devnet.mine(1)
        head = try await call.blockNumber()
        counted = try await requests("alias with hint, new block") { try await expectLookup("acme.1bz", at: head) }
        #expect(counted == (1, 1), "alias with a hint at a new block: \(counted)")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["ONEBZ_PROOF_BENCH"] == "1"))
    func benchmark() async throws {
        let devnet = try await SharedDevnet.get()
        let call = SharedDevnet.registry(devnet)
        let raw = JSONRPCClient(url: devnet.rpcURL)
        let proven = Self.proven(devnet)
        let head = try await call.blockNumber()
        let contract = EthereumAddress(hex: devnet.contractAddress)!
        let rounds = 100
        let clock = ContinuousClock()
        func measure(_ label: String, _ body: () async throws -> Void) async throws -> Duration {
            for _ in 0..<5 { try await body() }  // warm: connections, the agreed block
            let start = clock.now
            for _ in 0..<rounds { try await body() }
            let each = (clock.now - start) / rounds
            print("bench: \(label): \(each) per lookup")
            return each
        }
        let data = ABI.encodeCall(BizNodeRegistry.Signature.resolveDNS, [.string("shashi.1bz")])
        let rawCall = try await measure("one raw eth_call resolveDNS") {
            _ = try await raw.ethCall(to: contract, data: data, at: .number(head))
        }
        let callMode = try await measure("call mode lookup (helper, one eth_call)") {
            _ = try await call.lookup("shashi.1bz", at: .number(head))
        }
        let nodeOnly = try await measure("proof mode node(hash) (one eth_getProof)") {
            _ = try await proven.node(Bytes32(hex: devnet.sample("shashi.1bz")!.nodeHash)!, at: head)
        }
        let proofMode = try await measure("proof mode lookup, name seen before (one eth_getProof)") {
            _ = try await proven.lookup("shashi.1bz", at: head)
        }
        print("bench: ratios to one raw eth_call: call mode \(ratio(callMode, rawCall)), proof node \(ratio(nodeOnly, rawCall)), proof lookup \(ratio(proofMode, rawCall))")

        // Proof bytes and verification CPU for one alias lookup.
        let (hash, nameEvidence) = try await proven.resolveDNSWithEvidence("shashi.1bz", at: head)
        let (_, nodeEvidence) = try await proven.nodeWithEvidence(hash!, at: head)
        func bytes(_ p: AccountProof) -> Int { p.accountProof.reduce(0) { $0 + $1.count } + p.storageProof.reduce(0) { $0 + $1.proof.reduce(0) { $0 + $1.count } } }
        print("bench: proof bytes per alias lookup: \(bytes(nameEvidence.proof) + bytes(nodeEvidence.proof)) (name \(bytes(nameEvidence.proof)), node \(bytes(nodeEvidence.proof)), \(nodeEvidence.slots.count) node slots)")
        let verifyRounds = 200
        let start = clock.now
        for _ in 0..<verifyRounds {
            _ = try nameEvidence.proof.verify(stateRoot: nameEvidence.block.stateRoot, address: contract, slots: nameEvidence.slots)
            _ = try nodeEvidence.proof.verify(stateRoot: nodeEvidence.block.stateRoot, address: contract, slots: nodeEvidence.slots)
        }
        print("bench: CPU to verify one alias lookup's proofs: \((clock.now - start) / verifyRounds)")
    }

    private func ratio(_ a: Duration, _ b: Duration) -> String {
        let x = Double(a.components.attoseconds) / 1e18 + Double(a.components.seconds)
        let y = Double(b.components.attoseconds) / 1e18 + Double(b.components.seconds)
        return String(format: "%.2fx", x / y)
    }
}
