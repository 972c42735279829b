import ArgumentParser
import ChainReader
import ChainWallet
import Foundation
import NodeRegistry

/// `onebz register NAME --key DIR/node_private.pem`: registerNode(nodeHash, NAME) from the wallet.
struct RegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register NAME (e.g. shashi.1bz) for the node on chain: registerNode(nodeHash, NAME).",
        discussion: "The wallet that sends it becomes the node's wallet (only it can add stake).")

    @Argument(help: "The name: one lowercase LDH label under .1bz, e.g. shashi.1bz.")
    var name: String

    @OptionGroup var key: KeyOption
    @OptionGroup var chain: ChainOptions
    @OptionGroup var wallet: WalletOptions

    func run() async throws {
        let name = try checkedName(name)
        let id = try key.nodeID()
        let registry = try chain.registry()
        print("node_id:   \(id.hex)")
        print("nodeHash:  \(id.nodeHash.hex)")
        let hash = id.nodeHash
        let call = ContractCall(
            to: registry.address,
            data: ABI.encodeCall(BizNodeRegistry.Signature.registerNode, [.bytes32(hash), .string(name)]),
            summary: "registerNode(\(hash.hex.prefix(10))…, \"\(name)\")")
        guard try await runTransaction(call, registry: registry, wallet: wallet) != nil else { return }
        print("registered: \(name) -> \(id.hex)")
        note(
            "next: onebz publish --key \(key.key) --registry URL --ipv4 ADDR  (DNS answers A once the record is published)"
        )
    }
}

/// `onebz verify-onchain NAME`: verifyNode(nodeHash) paying the contract's current fee.
struct VerifyOnchainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-onchain",
        abstract: "Pay the contract's verificationFee for NAME: verifyNode(nodeHash). TXT then says verified=yes.")

    @Argument(help: "A registered name, e.g. shashi.1bz.")
    var name: String

    @Option(help: "Pay exactly this (e.g. 10ether) instead of the fee read from the contract.")
    var fee: String?

    @OptionGroup var chain: ChainOptions
    @OptionGroup var wallet: WalletOptions

    func run() async throws {
        let name = try checkedName(name)
        let registry = try chain.registry()
        let (hash, node) = try await registeredNode(name, registry)
        if node.verified {
            print("\(name) is already verified on chain; nothing to pay")
            return
        }
        let contractFee = try await registry.verificationFee()
        print("verificationFee: \(Wei.format(contractFee)) (\(contractFee) wei, read from the contract)")
        var value = contractFee
        if let fee {
            guard let parsed = Wei.parse(fee) else { throw ValidationError("--fee: not an amount: \(fee)") }
            value = parsed
        }
        let call = ContractCall(
            to: registry.address, data: ABI.encodeCall(BizNodeRegistry.Signature.verifyNode, [.bytes32(hash)]),
            value: value, summary: "verifyNode(\(hash.hex.prefix(10))…)")
        guard try await runTransaction(call, registry: registry, wallet: wallet) != nil else { return }
        print("verified: \(name)")
    }
}

/// `onebz stake NAME AMOUNT`: addStake(nodeHash) with AMOUNT, from the node's wallet.
struct StakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stake",
        abstract: "Add AMOUNT of stake to NAME's node: addStake(nodeHash). Only the node's wallet may.")

    @Argument(help: "A registered name, e.g. shashi.1bz.")
    var name: String

    @Argument(help: "Amount: 5 or 5ether (the chain's coin, 18 decimals: POL on Polygon), 2500gwei, 1000wei.")
    var amount: String

    @OptionGroup var chain: ChainOptions
    @OptionGroup var wallet: WalletOptions

    func run() async throws {
        let name = try checkedName(name)
        guard let value = Wei.parse(amount), !value.isZero else {
            throw ValidationError("AMOUNT: not a positive amount: \(amount) (e.g. 5ether, 2500gwei)")
        }
        let registry = try chain.registry()
        let (hash, node) = try await registeredNode(name, registry)
        print("stake now: \(Wei.format(node.stakeAmount)); adding \(Wei.format(value))")
        let call = ContractCall(
            to: registry.address, data: ABI.encodeCall(BizNodeRegistry.Signature.addStake, [.bytes32(hash)]),
            value: value, summary: "addStake(\(hash.hex.prefix(10))…)")
        guard try await runTransaction(call, registry: registry, wallet: wallet) != nil else { return }
        let after = try await registry.node(hash)
        print("stake:     \(Wei.format(after?.stakeAmount ?? .zero))")
    }
}

/// The node registered under `name`, or a clear error.
func registeredNode(_ name: String, _ registry: BizNodeRegistry) async throws -> (Bytes32, Node) {
    do {
        guard let found = try await registry.lookup(name) else {
            throw CLIError("\(name) is not registered on chain: run `onebz register \(name) --key ...` first")
        }
        return (found.nodeHash, found.node)
    } catch let error as JSONRPCError { throw CLIError("cannot read the chain: \(error)") }
}
