import ArgumentParser
import ChainReader
import ChainWallet
import Foundation
import NodeRegistry

/// Where the chain is: one JSON-RPC URL and the BizNodeRegistry address.
struct ChainOptions: ParsableArguments {
    @Option(
        help:
            "Chain JSON-RPC URL (a Polygon endpoint, or the devnet's, e.g. http://127.0.0.1:8545); env:NAME or @FILE keeps an API key out of ps."
    )
    var rpc: String

    @Option(help: "BizNodeRegistry contract address (0x + 40 hex).")
    var contract: String

    func registry() throws -> BizNodeRegistry {
        let url: URL
        do { url = try RPCURLArgument.resolve(rpc, flag: "--rpc") } catch { throw ValidationError(error.description) }
        guard let address = EthereumAddress(hex: contract) else {
            throw ValidationError("--contract must be 0x + 40 hex digits, got \(contract)")
        }
        var configuration = JSONRPCClient.Configuration(endpoints: [url])
        configuration.timeout = .seconds(15)
        // A signed transaction is sent at most once per attempt; the sender treats an
        // "already known" answer to a retry as sent.
        configuration.maxAttempts = 2
        return BizNodeRegistry(client: JSONRPCClient(configuration: configuration), address: address)
    }
}

/// Who pays, and how: the wallet key and the fee policy.
struct WalletOptions: ParsableArguments {
    @Option(
        name: .customLong("wallet-key"),
        help:
            "Wallet key file: a raw secp256k1 key (64 hex) or a keystore v3 JSON (its password from ONEBZ_WALLET_PASSWORD, --wallet-password-file, or a prompt)."
    )
    var walletKey: String

    @Option(name: .customLong("wallet-password-file"), help: "Read the keystore password from FILE.")
    var walletPasswordFile: String?

    @Option(
        name: .customLong("max-fee"),
        help: "Refuse to send when the fee per gas would exceed this (default 1000gwei). Units: wei, gwei, ether.")
    var maxFee: String = "1000gwei"

    @Option(name: .customLong("priority-fee"), help: "Tip per gas (default: the endpoint's eth_maxPriorityFeePerGas).")
    var priorityFee: String?

    @Flag(help: "Legacy (type 0) transaction with a gas price, for chains without EIP-1559.")
    var legacy = false

    @Flag(name: .customLong("dry-run"), help: "Build and sign the transaction, print it, send nothing.")
    var dryRun = false

    @Option(name: .customLong("wait"), help: "Seconds to wait for the receipt (default 300).")
    var wait: Int = 300

    func key() throws -> WalletKey {
        let file = try WalletKeyFile(path: walletKey)
        do {
            return try file.key {
                try Secrets.password(
                    env: "ONEBZ_WALLET_PASSWORD", file: walletPasswordFile, fileFlag: "--wallet-password-file",
                    prompt: "Password for the keystore \(walletKey): ")
            }
        } catch let error as WalletError { throw CLIError("\(walletKey): \(error.message)") }
    }

    func policy() throws -> SendPolicy {
        var policy = SendPolicy()
        policy.legacy = legacy
        guard let cap = Wei.parse(maxFee.contains(where: \.isLetter) ? maxFee : maxFee + "gwei") else {
            throw ValidationError("--max-fee: not an amount: \(maxFee) (e.g. 500gwei)")
        }
        policy.maxFeePerGas = cap
        if let priorityFee {
            guard let tip = Wei.parse(priorityFee.contains(where: \.isLetter) ? priorityFee : priorityFee + "gwei")
            else {
                throw ValidationError("--priority-fee: not an amount: \(priorityFee) (e.g. 30gwei)")
            }
            policy.priorityFeePerGas = tip
        }
        policy.receiptTimeout = .seconds(max(1, wait))
        return policy
    }
}

/// Prepares, shows, and (unless --dry-run) sends one contract call, printing progress
/// on stderr and the outcome on stdout. Returns nil for a dry run.
func runTransaction(_ call: ContractCall, registry: BizNodeRegistry, wallet: WalletOptions) async throws
    -> TransactionReceipt?
{
    let sender = TransactionSender(client: registry.client, key: try wallet.key(), policy: try wallet.policy())
    let prepared: TransactionSender.Prepared
    do { prepared = try await sender.prepare(call) } catch let error as WalletError {
        throw CLIError(error.message)
    } catch let error as JSONRPCError {
        throw CLIError("cannot prepare the transaction: \(error); nothing was sent")
    }
    let tx = prepared.transaction
    print("from:      \(sender.key.address.checksummed) (balance \(Wei.format(prepared.balance)))")
    print("call:      \(call.summary) on \(call.to.checksummed)")
    print("chain:     \(tx.chainID), nonce \(tx.nonce)")
    if !call.value.isZero { print("value:     \(Wei.format(call.value)) (\(call.value) wei)") }
    print("gas:       estimated \(prepared.estimatedGas), limit \(tx.gasLimit)")
    switch tx.fees {
    case .eip1559(let maxFee, let tip):
        let base = prepared.baseFee.map { "base fee \(Wei.formatGwei($0)) + " } ?? ""
        print("fees:      EIP-1559, \(base)tip \(Wei.formatGwei(tip)); max \(Wei.formatGwei(maxFee)) per gas")
    case .legacy(let price):
        print("fees:      legacy, gas price \(Wei.formatGwei(price))")
    }
    if let maxCost = tx.maxCost { print("at most:   \(Wei.format(maxCost)) (value + gas limit × max fee)") }
    if wallet.dryRun {
        print("dry run:   signed, not sent")
        print("raw:       \(Hex.encode(prepared.signed.raw))")
        print("hash:      \(prepared.signed.hash.hex)")
        return nil
    }
    let receipt: TransactionReceipt
    do {
        receipt = try await sender.send(prepared) { progress in
            switch progress {
            case .sent(let hash): note("sent \(hash.hex); waiting for the receipt ...")
            case .waiting(let hash, let elapsed):
                let seconds = elapsed.components.seconds
                if seconds > 0, seconds % 5 == 0 { note("  still waiting for \(hash.hex) (\(seconds) s)") }
            case .mined(let receipt): note("mined in block \(receipt.blockNumber)")
            }
        }
    } catch let error as WalletError {
        throw CLIError(error.message)
    } catch let error as JSONRPCError {
        throw CLIError(
            "\(error) — transaction \(prepared.signed.hash.hex) may or may not have been sent; look it up "
                + "(eth_getTransactionReceipt) before sending again")
    }
    print("tx:        \(receipt.transactionHash.hex)")
    print("block:     \(receipt.blockNumber)")
    print(
        "gas used:  \(receipt.gasUsed), fee paid \(Wei.format(receipt.fee)) (\(Wei.formatGwei(receipt.effectiveGasPrice)) per gas)"
    )
    return receipt
}

/// A name checked against the registration rules, as the contract stores it.
func checkedName(_ text: String) throws -> String {
    switch RegistryName.validate(text) {
    case .success(let name): return name
    case .failure(let error): throw ValidationError("\(error)")
    }
}
