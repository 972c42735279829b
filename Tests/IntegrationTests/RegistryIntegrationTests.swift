import ChainReader
import Foundation
import Testing
import TestSupport

/// BizNodeRegistry and JSONRPCClient against a real devnet (scripts/devnet).
@Suite struct RegistryIntegrationTests {
    @Test func sampleNodesResolveAndAgreeWithDevnetHashing() async throws {
        let devnet = try await SharedDevnet.get()
        let registry = SharedDevnet.registry(devnet)
        let twoCalls = SharedDevnet.registry(devnet, withLookup: false)
        #expect(devnet.sampleNodes.map(\.name) == ["shashi.1bz", "acme.1bz", "bob.1bz"])
        for sample in devnet.sampleNodes {
            // nodeHash = keccak256(node_id ASCII), computed by the devnet in Python.
            #expect(Bytes32(Keccak256.hash(sample.nodeID))!.hex == sample.nodeHash)
            let hash = try #require(try await registry.resolveDNS(sample.name))
            #expect(hash.hex == sample.nodeHash)
            let node = try #require(try await registry.node(hash))
            #expect(node.dnsName == sample.name)
            #expect(node.wallet == EthereumAddress(hex: sample.wallet))
            #expect(node.registeredAt > 1_600_000_000)
            let viaLookup = try await registry.lookup(sample.name)
            let viaTwoCalls = try await twoCalls.lookup(sample.name)
            #expect(viaLookup == ResolvedNode(nodeHash: hash, node: node))
            #expect(viaTwoCalls == viaLookup)
        }
        let shashi = try #require(try await registry.lookup("shashi.1bz"))
        #expect(shashi.node.verified && shashi.node.stakeAmount.isZero)
        let acme = try #require(try await registry.lookup("acme.1bz"))
        #expect(!acme.node.verified && acme.node.stakeAmount == UInt256(5 * Devnet.ether))
        let bob = try #require(try await registry.lookup("bob.1bz"))
        #expect(!bob.node.verified && bob.node.stakeAmount.isZero)
    }

    @Test func unknownNamesAndHashesAreNil() async throws {
        let devnet = try await SharedDevnet.get()
        let registry = SharedDevnet.registry(devnet)
        #expect(try await registry.resolveDNS("nobody.1bz") == nil)
        #expect(try await registry.lookup("nobody.1bz") == nil)
        #expect(try await SharedDevnet.registry(devnet, withLookup: false).lookup("nobody.1bz") == nil)
        #expect(try await registry.node(.zero) == nil)
        #expect(try await registry.resolveDNS(String(repeating: "a", count: 254)) == nil)
        #expect(try await registry.verificationFee() == UInt256(10 * Devnet.ether))
        #expect(try await registry.owner() == EthereumAddress(hex: devnet.info.owner))
    }

    @Test func registerByTransactionThenReadBackAtBlocks() async throws {
        let devnet = try await SharedDevnet.get()
        let registry = SharedDevnet.registry(devnet)
        let node = TestNode(prefix: "reg")
        let wallet = devnet.info.accounts[6]
        let receipt = try await devnet.registerNode(nodeHash: node.nodeHash.hex, name: node.name, from: wallet)
        #expect(receipt.succeeded)
        let block = receipt.blockNumber
        #expect(try await registry.resolveDNS(node.name, at: .number(block - 1)) == nil)
        #expect(try await registry.resolveDNS(node.name, at: .number(block)) == node.nodeHash)
        #expect(try await registry.resolveDNS(node.name, at: .finalized) == node.nodeHash)
        let read = try #require(try await registry.node(node.nodeHash, at: .number(block)))
        #expect(read.wallet == EthereumAddress(hex: wallet) && read.dnsName == node.name && !read.verified)

        let verify = try await devnet.verifyNode(nodeHash: node.nodeHash.hex)
        let stake = try await devnet.addStake(nodeHash: node.nodeHash.hex, amount: 3 * Devnet.ether, from: wallet)
        #expect(verify.succeeded && stake.succeeded)
        let after = try #require(try await registry.lookup(node.name, at: .latest))
        #expect(after.node.verified && after.node.stakeAmount == UInt256(3 * Devnet.ether))

        let logs = try await registry.logs(from: block, to: stake.blockNumber)
        let mine = logs.filter { $0.event.nodeHash == node.nodeHash }
        #expect(
            mine.map(\.event) == [
                .registered(nodeHash: node.nodeHash, wallet: EthereumAddress(hex: wallet)!, name: node.name),
                .verified(nodeHash: node.nodeHash),
                .stakeAdded(nodeHash: node.nodeHash, amount: UInt256(3 * Devnet.ether)),
            ])
        #expect(mine.first?.blockHash.hex == receipt.blockHash)
        let header = try #require(try await registry.block(block))
        #expect(header.hash.hex == receipt.blockHash)
        let parent = try #require(try await registry.block(block - 1))
        #expect(header.parentHash == parent.hash)
        #expect(try await registry.block(block + 100_000) == nil)
    }

    @Test func rpcErrorsAreTyped() async throws {
        let devnet = try await SharedDevnet.get()
        let client = JSONRPCClient(url: devnet.rpcURL)
        let registry = SharedDevnet.registry(devnet)
        let unknown = await #expect(throws: JSONRPCError.self) { try await client.call("eth_frobnicate") }
        #expect(unknown?.kind == .rpc && unknown?.rpcCode == -32601 && unknown?.isRetryable == false)

        let tooWide = await #expect(throws: JSONRPCError.self) { try await registry.logs(from: 0, to: 5000) }
        #expect(tooWide?.isRangeTooLarge == true)

        let reverted = await #expect(throws: JSONRPCError.self) {
            try await client.ethCall(
                to: registry.address, data: ABI.encodeCall("verifyNode(bytes32)", [.bytes32(.zero)]))
        }
        #expect(reverted?.isExecutionReverted == true && reverted?.message == "execution reverted: Not registered")

        let future = await #expect(throws: JSONRPCError.self) {
            try await registry.resolveDNS("shashi.1bz", at: .number(1 << 40))
        }
        #expect(future?.isHeaderNotFound == true)
        #expect(try await client.chainID() == devnet.info.chainID)
    }

    @Test func failsOverFromADeadEndpoint() async throws {
        let devnet = try await SharedDevnet.get()
        let dead = URL(string: "http://127.0.0.1:\(FreePort.next())")!
        var configuration = JSONRPCClient.Configuration(endpoints: [dead, devnet.rpcURL])
        configuration.timeout = .seconds(2)
        let client = JSONRPCClient(configuration: configuration)
        let head = try await client.blockNumber()
        #expect(head >= devnet.deployBlock)
        // The dead endpoint alone: a transport error after every attempt.
        var deadOnly = JSONRPCClient.Configuration(endpoints: [dead])
        deadOnly.maxAttempts = 2
        deadOnly.backoff = .milliseconds(10)
        let error = await #expect(throws: JSONRPCError.self) {
            try await JSONRPCClient(configuration: deadOnly).blockNumber()
        }
        #expect(error?.kind == .transport)
    }

    /// Every function selector and event topic of the Vyper build (the ABI the devnet
    /// compiled and deployed) equals the one computed from the Solidity source.
    @Test func vyperABIMatchesSoliditySignatures() async throws {
        let devnet = try await SharedDevnet.get()
        let solidity = try String(
            contentsOf: Repo.root.appendingPathComponent("contracts/BizNodeRegistry.sol"), encoding: .utf8)
        let (solFunctions, solEvents) = try SoliditySignatures.parse(solidity)
        #expect(Set(solFunctions) == Set(BizNodeRegistry.Signature.registryFunctions))
        #expect(Set(solEvents) == Set(RegistryEvent.Signature.all))

        let abiData = try Data(contentsOf: devnet.stateDirectory.appendingPathComponent("abi/BizNodeRegistry.json"))
        let entries = try JSONDecoder().decode([ABIEntry].self, from: abiData)
        let vyFunctions = entries.filter { $0.type == "function" }.map(\.signature)
        let vyEvents = entries.filter { $0.type == "event" }
        #expect(vyFunctions.count == 10 && vyEvents.count == 4)
        #expect(Set(vyFunctions.map { Hex.encode(ABI.selector($0)) }) == Set(solFunctions.map { Hex.encode(ABI.selector($0)) }))
        #expect(Set(vyEvents.map { ABI.eventTopic($0.signature) }) == Set(solEvents.map { ABI.eventTopic($0) }))
        #expect(vyEvents.allSatisfy { $0.inputs.first?.indexed == true && $0.inputs.dropFirst().allSatisfy { $0.indexed != true } })
        let nodes = try #require(entries.first { $0.name == "nodes" })
        #expect(nodes.outputs?.map(\.type) == ["address", "string", "bool", "uint256", "uint256"])

        // And the deployed code dispatches on each of them.
        let code = try #require(try await devnet.rpc("eth_getCode", [devnet.contractAddress, "latest"]) as? String)
        for signature in solFunctions {
            #expect(code.contains(Hex.encode(ABI.selector(signature), prefix: false)), "\(signature)")
        }
    }
}

struct ABIEntry: Decodable {
    struct Parameter: Decodable {
        let type: String
        let indexed: Bool?
    }
    let type: String
    let name: String?
    let inputs: [Parameter]
    let outputs: [Parameter]?
    var signature: String { "\(name ?? "")(\(inputs.map(\.type).joined(separator: ",")))" }
}

/// External signatures of a Solidity source: functions, public state variables (their
/// getters) and events. Enough for BizNodeRegistry.sol, not a Solidity parser.
enum SoliditySignatures {
    static func parse(_ source: String) throws -> (functions: [String], events: [String]) {
        func types(_ parameters: Substring) -> String {
            parameters.split(separator: ",").map { $0.split(separator: " ").first.map(String.init) ?? "" }
                .joined(separator: ",")
        }
        var functions: [String] = []
        var events: [String] = []
        for match in source.matches(of: try Regex(#"function\s+(\w+)\s*\(([^)]*)\)\s*(external|public)"#)) {
            functions.append("\(match.output[1].substring!)(\(types(match.output[2].substring!)))")
        }
        for match in source.matches(of: try Regex(#"mapping\s*\(\s*(\w+)\s*=>\s*\w+\s*\)\s*public\s+(\w+)"#)) {
            functions.append("\(match.output[2].substring!)(\(match.output[1].substring!))")
        }
        for match in source.matches(of: try Regex(#"\n\s*(uint256|address|bool|bytes32|string)\s+public\s+(\w+)"#)) {
            functions.append("\(match.output[2].substring!)()")
        }
        for match in source.matches(of: try Regex(#"event\s+(\w+)\s*\(([^)]*)\)"#)) {
            events.append("\(match.output[1].substring!)(\(types(match.output[2].substring!)))")
        }
        return (functions, events)
    }
}
