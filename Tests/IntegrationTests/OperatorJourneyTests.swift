import Foundation
import TestSupport
import Testing

/// The node operator's journey (docs/operator.md), every step through `onebz` only: a
/// fresh identity and the devnet's funded dev wallet, to `dig NAME` answering the
/// published address with verified=yes; the contract's refusals, a wrong keystore
/// password, an unfunded wallet; and onebz's signed transactions decoded by eth-account.
@Suite(.serialized) struct OperatorJourneyTests {
    static let onebz = Repo.product("onebz").path
    static let python = Repo.root.appendingPathComponent(".venv-devnet/bin/python").path

    struct Chain {
        let rpc: String
        let contract: String
        let walletKey: String
        var arguments: [String] { ["--rpc", rpc, "--contract", contract, "--wallet-key", walletKey] }
    }

    static func chain(_ devnet: Devnet) throws -> Chain {
        let key = try #require(devnet.info.devWalletKeyPath, "the devnet writes dev-wallet.key")
        return Chain(rpc: devnet.info.rpcURL, contract: devnet.contractAddress, walletKey: key)
    }

    static func onebz(_ arguments: [String], env: [String: String] = [:]) async throws -> CommandResult {
        try await Command.runAsync(onebz, arguments, environment: env)
    }

    static func initNode(_ label: String, password: String? = nil) async throws -> (dir: URL, key: String, id: String) {
        let dir = try Repo.scratchDirectory(label).appendingPathComponent("identity")
        let r =
            password == nil
            ? try await onebz(["init", "--out", dir.path, "--no-password"])
            : try await onebz(["init", "--out", dir.path], env: ["ONEBZ_KEY_PASSWORD": password!])
        #expect(r.status == 0, "\(r.stderr)")
        let id = try String(contentsOf: dir.appendingPathComponent("node_id.txt"), encoding: .utf8)
        #expect(r.stdout.contains("node_id:  \(id)"))
        return (dir, dir.appendingPathComponent("node_private.pem").path, id)
    }

    static func gasUsed(_ output: String) -> String {
        output.split(separator: "\n").first { $0.hasPrefix("gas used:") }.map(String.init) ?? "?"
    }

    @Test func wholeJourneyToDig() async throws {
        let stack = try await DynamicStack(label: "journey", positiveTTL: 1, pollMilliseconds: 200)
        let chain = try Self.chain(stack.devnet)
        let registry = "http://127.0.0.1:\(stack.registryPort)"
        let name = "journey\(Int.random(in: 1000...9999)).1bz"
        let pw = ["ONEBZ_KEY_PASSWORD": "operator secret"]

        // 1. identity, as identity.py makes it (encrypted key)
        let node = try await Self.initNode("journey-node", password: "operator secret")
        let pem = try String(contentsOfFile: node.key, encoding: .utf8)
        #expect(pem.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))

        // 2. register on chain
        let register = try await Self.onebz(["register", name, "--key", node.key] + chain.arguments)
        #expect(register.status == 0, "\(register.stdout)\(register.stderr)")
        #expect(register.stdout.contains("registered: \(name) -> \(node.id)"))

        // 3. verification: the fee is read from the contract and shown
        let verify = try await Self.onebz(["verify-onchain", name] + chain.arguments)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("verificationFee: 10 ether"))

        // 4. stake
        let stake = try await Self.onebz(["stake", name, "2.5"] + chain.arguments)
        #expect(stake.status == 0, "\(stake.stdout)\(stake.stderr)")
        #expect(stake.stdout.contains("stake:     2.5 ether"))
        print(
            "gas: register \(Self.gasUsed(register.stdout)); verify \(Self.gasUsed(verify.stdout)); stake \(Self.gasUsed(stake.stdout))"
        )

        // status before publishing: chain yes, registry says not published
        let early = try await Self.onebz([
            "status", name, "--rpc", chain.rpc, "--contract", chain.contract, "--registry", registry,
        ])
        #expect(early.status == 3)
        #expect(early.stdout.contains("registry record not published yet"), "\(early.stdout)")

        // 5. publish signed metadata (the encrypted key, password from the environment), heartbeat
        let publish = try await Self.onebz(
            ["publish", "--key", node.key, "--registry", registry, "--ipv4", "192.0.2.77", "--seq", "10"], env: pw)
        #expect(publish.status == 0, "\(publish.stderr)")
        let beat = try await Self.onebz(["heartbeat", "--key", node.key, "--registry", registry], env: pw)
        #expect(beat.status == 0, "\(beat.stderr)")

        // 6. anyone resolves the name
        _ = try await stack.eventually(timeout: .seconds(20)) {
            let a = try stack.dig([name, "A"])
            let txt = try stack.dig([name, "TXT"]).txt
            return a.rdata("A") == ["192.0.2.77"] && txt["verified"] == "yes" && txt["node"] == node.id
        }

        // 7. status: chain, registry and DNS agree
        let dnsAddress = "127.0.0.1:\(stack.onebzd.port)"
        var last: CommandResult?
        _ = try? await stack.eventually(timeout: .seconds(10)) {
            last = try Command.run(
                Self.onebz,
                [
                    "status", name, "--rpc", chain.rpc, "--contract", chain.contract, "--registry", registry, "--dns",
                    dnsAddress,
                ])
            return last?.status == 0
        }
        let status = try #require(last)
        #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
        #expect(status.stdout.contains("verified:   yes") && status.stdout.contains("A/AAAA:     192.0.2.77"))
        #expect(status.stdout.contains("chain, registry and DNS agree"))
        #expect(status.stdout.contains("heartbeat:  ") && status.stdout.contains(" s ago)"), "\(status.stdout)")

        // a new address: status names the stale DNS answer until it refreshes
        let republish = try await Self.onebz(
            ["publish", "--key", node.key, "--registry", registry, "--ipv4", "192.0.2.78", "--seq", "11"], env: pw)
        #expect(republish.status == 0, "\(republish.stderr)")
        let stale = try await Self.onebz(
            [
                "status", node.id, "--rpc", chain.rpc, "--contract", chain.contract, "--registry", registry, "--dns",
                dnsAddress,
            ])
        if stale.status == 3 {
            #expect(stale.stdout.contains("DNS still serves the old address"), "\(stale.stdout)")
        }
    }

    @Test func revertReasonsWrongPasswordAndUnfundedWallet() async throws {
        let devnet = try await Devnet.start(label: "journey-reverts")
        defer { devnet.stop() }
        let chain = try Self.chain(devnet)
        let first = try await Self.initNode("reverts-a")
        let second = try await Self.initNode("reverts-b")
        let name = "taken.1bz"

        let ok = try await Self.onebz(["register", name, "--key", first.key] + chain.arguments)
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")

        // each revert reason, plainly, and nothing sent
        let before = try await devnet.blockNumber()
        let taken = try await Self.onebz(["register", name, "--key", second.key] + chain.arguments)
        #expect(
            taken.status != 0 && taken.stderr.contains("DNS already taken")
                && taken.stderr.contains("nothing was sent"), "\(taken.stderr)")
        let again = try await Self.onebz(["register", "other.1bz", "--key", first.key] + chain.arguments)
        #expect(again.status != 0 && again.stderr.contains("Already registered"), "\(again.stderr)")
        let cheap = try await Self.onebz(["verify-onchain", name, "--fee", "1gwei"] + chain.arguments)
        #expect(cheap.status != 0 && cheap.stderr.contains("Insufficient fee"), "\(cheap.stderr)")
        let guarded = try await Self.onebz(
            ["register", "guarded.1bz", "--key", second.key, "--max-fee", "1wei"] + chain.arguments)
        #expect(guarded.status != 0 && guarded.stderr.contains("--max-fee"), "\(guarded.stderr)")
        // another funded wallet (eth-tester's account 4 has the well-known key 5) is not the node's
        let other = try Repo.scratchDirectory("journey-other").appendingPathComponent("other.key").path
        try ("0x" + String(repeating: "0", count: 63) + "5").write(toFile: other, atomically: true, encoding: .utf8)
        let notOwner = try await Self.onebz(
            ["stake", name, "1", "--rpc", chain.rpc, "--contract", chain.contract, "--wallet-key", other])
        #expect(notOwner.status != 0 && notOwner.stderr.contains("Not owner"), "\(notOwner.stderr)")
        #expect(try await devnet.blockNumber() == before, "a refused transaction mined nothing")

        // names are checked before anything is asked of the chain
        for bad in ["Shashi.1bz", "shashi.com", "a.b.1bz", "-x.1bz", "under_score.1bz"] {
            let r = try await Self.onebz(["register", bad, "--key", first.key] + chain.arguments)
            #expect(r.status != 0, "\(bad) accepted")
        }

        // a keystore v3 wallet (made by eth-account): wrong password, then the right one
        let funded = try String(contentsOfFile: chain.walletKey, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let keystore = try Repo.scratchDirectory("journey-keystore").appendingPathComponent("wallet.json").path
        let made = try Command.run(
            Self.python,
            [
                "-c",
                "import json,sys; from eth_account import Account; json.dump(Account.encrypt(sys.argv[1], sys.argv[2]), open(sys.argv[3], 'w'))",
                funded, "right horse", keystore,
            ])
        #expect(made.status == 0, "\(made.stderr)")
        let withKeystore = ["--rpc", chain.rpc, "--contract", chain.contract, "--wallet-key", keystore]
        let wrong = try await Self.onebz(
            ["register", "second.1bz", "--key", second.key, "--dry-run"] + withKeystore,
            env: ["ONEBZ_WALLET_PASSWORD": "wrong horse"])
        #expect(wrong.status != 0 && wrong.stderr.contains("wrong password"), "\(wrong.stderr)")
        let right = try await Self.onebz(
            ["register", "second.1bz", "--key", second.key] + withKeystore,
            env: ["ONEBZ_WALLET_PASSWORD": "right horse"])
        #expect(right.status == 0, "\(right.stdout)\(right.stderr)")

        // an unfunded wallet: a clear error, nothing sent (its nonce stays 0, no block mined)
        let empty = try Repo.scratchDirectory("journey-empty").appendingPathComponent("empty.key").path
        try ("0x" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 1...255)) }.joined())
            .write(toFile: empty, atomically: true, encoding: .utf8)
        let third = try await Self.initNode("reverts-c")
        let head = try await devnet.blockNumber()
        let poor = try await Self.onebz(
            [
                "register", "poor.1bz", "--key", third.key, "--rpc", chain.rpc, "--contract", chain.contract,
                "--wallet-key", empty,
            ])
        #expect(
            poor.status != 0 && poor.stderr.contains("fund") && poor.stderr.contains("nothing was sent"),
            "\(poor.stderr)")
        let poorStake = try await Self.onebz(
            ["stake", name, "1", "--rpc", chain.rpc, "--contract", chain.contract, "--wallet-key", empty])
        #expect(poorStake.status != 0 && poorStake.stderr.contains("fund"), "\(poorStake.stderr)")
        #expect(try await devnet.blockNumber() == head)
    }

    /// eth-account (an independent implementation) decodes what onebz signed: sender,
    /// chain id, nonce, recipient, value, calldata; EIP-1559 and legacy.
    @Test(arguments: [false, true])
    func signedTransactionDecodesWithEthAccount(legacy: Bool) async throws {
        let devnet = try await Devnet.start(label: "journey-decode", sample: false)
        defer { devnet.stop() }
        let chain = try Self.chain(devnet)
        let node = try await Self.initNode("decode")
        let r = try await Self.onebz(
            ["register", "decoded.1bz", "--key", node.key, "--dry-run"] + (legacy ? ["--legacy"] : []) + chain.arguments
        )
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let raw = try #require(
            r.stdout.split(separator: "\n").first { $0.hasPrefix("raw:") }?.split(separator: " ").last)
        let script = """
            import json, sys, rlp
            from eth_account import Account
            from eth_account.typed_transactions import TypedTransaction
            from hexbytes import HexBytes
            raw = HexBytes(sys.argv[1])
            out = {"from": Account.recover_transaction(raw)}
            if raw[0] == 2:
                tx = TypedTransaction.from_bytes(raw).as_dict()
                out.update(type=2, chainId=tx["chainId"], nonce=tx["nonce"], to=tx["to"].hex() if isinstance(tx["to"], bytes) else tx["to"],
                           value=tx["value"], data=HexBytes(tx["data"]).hex(), gas=tx["gas"])
            else:
                f = rlp.decode(bytes(raw))
                v = int.from_bytes(f[6], "big")
                out.update(type=0, chainId=(v - 35) // 2, nonce=int.from_bytes(f[0], "big"), to=f[3].hex(),
                           value=int.from_bytes(f[4], "big"), data=f[5].hex(), gas=int.from_bytes(f[2], "big"))
            print(json.dumps(out))
            """
        let decoded = try Command.run(Self.python, ["-c", script, String(raw)])
        #expect(decoded.status == 0, "\(decoded.stderr)")
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(decoded.stdout.utf8)) as? [String: Any])
        #expect((fields["from"] as? String)?.lowercased() == devnet.info.devWallet?.lowercased())
        #expect((fields["chainId"] as? Int).map(UInt64.init) == devnet.info.chainID)
        #expect(fields["type"] as? Int == (legacy ? 0 : 2))
        #expect(fields["nonce"] as? Int == 0)
        #expect(
            (fields["to"] as? String)?.lowercased().hasSuffix(String(devnet.contractAddress.lowercased().dropFirst(2)))
                == true)
        #expect(fields["value"] as? Int == 0)
        let data = (fields["data"] as? String ?? "").replacingOccurrences(of: "0x", with: "")
        #expect(data.hasPrefix("54111bbc"), "registerNode selector")  // registerNode(bytes32,string)
        #expect(data.contains(Array("decoded.1bz".utf8).map { String(format: "%02x", $0) }.joined()))
        // the dry run sent nothing
        #expect(
            try await devnet.rpc("eth_getTransactionCount", [devnet.info.devWallet!, "latest"]) as? String == "0x0")
    }
}
