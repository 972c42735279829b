import ChainReader
import Foundation

/// What to call: a contract, calldata, value, and a human description for the output.
public struct ContractCall: Sendable {
    public var to: EthereumAddress
    public var data: [UInt8]
    public var value: UInt256
    /// e.g. `registerNode(0x…, "shashi.1bz")`.
    public var summary: String

    public init(to: EthereumAddress, data: [UInt8], value: UInt256 = .zero, summary: String) {
        self.to = to
        self.data = data
        self.value = value
        self.summary = summary
    }
}

/// How to price and bound a transaction.
public struct SendPolicy: Sendable {
    /// Legacy (type 0, gasPrice) instead of EIP-1559.
    public var legacy = false
    /// The guard: refuse when the max fee per gas we would offer exceeds this.
    public var maxFeePerGas: UInt256 = Wei.perGwei.multiplied(by: 1000)!
    /// The tip to offer; nil: the endpoint's eth_maxPriorityFeePerGas (else 2 gwei).
    public var priorityFeePerGas: UInt256?
    /// Gas limit = estimate × (100 + margin)/100, at most `gasCap`.
    public var gasMarginPercent: UInt64 = 20
    public var gasCap: UInt64 = 2_000_000
    /// How long to wait for the receipt, and how often to ask.
    public var receiptTimeout: Duration = .seconds(300)
    public var pollInterval: Duration = .seconds(1)

    public init() {}
}

/// The policy's decisions, pure (tested without an endpoint).
extension SendPolicy {
    /// The estimate plus the margin, at most `gasCap`.
    public func gasLimit(estimate: UInt64) -> UInt64 {
        min(gasCap, estimate + estimate * gasMarginPercent / 100)
    }

    /// EIP-1559: the tip is ours, else the endpoint's suggestion, else 2 gwei; max fee =
    /// 2 × base fee + tip (room for several full blocks of base-fee rises), capped by the
    /// guard; refused when base fee + tip alone exceeds the guard.
    public func eip1559Fees(baseFee: UInt256, suggestedTip: UInt256?) throws(WalletError) -> EthereumTransaction.Fees {
        var tip = priorityFeePerGas ?? suggestedTip ?? UInt256(2_000_000_000)
        guard let needed = baseFee.adding(tip), let maxFee = baseFee.multiplied(by: 2).flatMap({ $0.adding(tip) })
        else {
            throw WalletError(.feeTooHigh, "the base fee \(baseFee) wei is absurd")
        }
        try guardFee(needed, what: "base fee + tip")
        let bounded = min(maxFee, maxFeePerGas)
        if tip > bounded { tip = bounded }
        return .eip1559(maxFeePerGas: bounded, maxPriorityFeePerGas: tip)
    }

    /// Legacy: the endpoint's gas price, refused above the guard.
    public func legacyFees(gasPrice: UInt256) throws(WalletError) -> EthereumTransaction.Fees {
        try guardFee(gasPrice, what: "the gas price")
        return .legacy(gasPrice: gasPrice)
    }

    private func guardFee(_ fee: UInt256, what: String) throws(WalletError) {
        if fee > maxFeePerGas {
            throw WalletError(
                .feeTooHigh,
                "\(what) is \(Wei.formatGwei(fee)) per gas, above --max-fee \(Wei.formatGwei(maxFeePerGas)): "
                    + "wait for calmer fees or raise --max-fee; nothing was sent")
        }
    }
}

/// Progress of one transaction, for a caller that prints it.
public enum SendProgress: Sendable {
    case sent(Bytes32)
    case waiting(Bytes32, elapsed: Duration)
    case mined(TransactionReceipt)
}

/// Builds, signs, sends and follows one transaction: chain id, nonce and fees from the
/// endpoint, gas estimated (a revert is reported with the contract's reason before
/// anything is sent), the balance checked against value + gas × max fee, the receipt
/// awaited. A signed transaction is sent once: a retried send that the endpoint
/// reports as "already known" counts as sent.
public struct TransactionSender: Sendable {
    public let client: JSONRPCClient
    public let key: WalletKey
    public let policy: SendPolicy

    public init(client: JSONRPCClient, key: WalletKey, policy: SendPolicy = SendPolicy()) {
        self.client = client
        self.key = key
        self.policy = policy
    }

    /// A signed transaction and what went into it, before sending.
    public struct Prepared: Sendable {
        public let call: ContractCall
        public let signed: SignedTransaction
        public let estimatedGas: UInt64
        public let baseFee: UInt256?
        public let balance: UInt256
        public var transaction: EthereumTransaction { signed.transaction }
    }

    public func prepare(_ call: ContractCall) async throws -> Prepared {
        let from = key.address
        async let chainIDCall = client.chainID()
        async let nonceCall = client.transactionCount(of: from)
        async let balanceCall = client.balance(of: from)
        let (chainID, nonce, balance) = try await (chainIDCall, nonceCall, balanceCall)
        if balance.isZero || balance < call.value {
            throw WalletError(
                .insufficientFunds,
                "the wallet \(from.checksummed) holds \(Wei.format(balance)) but \(call.summary) sends "
                    + "\(Wei.format(call.value)) (plus gas): fund the wallet first; nothing was sent")
        }
        let estimate = try await estimateGas(call)
        let gasLimit = policy.gasLimit(estimate: estimate)
        let (fees, baseFee) = try await fees()
        let transaction = EthereumTransaction(
            chainID: chainID, nonce: nonce, fees: fees, gasLimit: gasLimit, to: call.to, value: call.value,
            data: call.data)
        guard let maxCost = transaction.maxCost else {
            throw WalletError(.invalidInput, "value + gas × fee does not fit 256 bits")
        }
        if balance < maxCost {
            throw WalletError(
                .insufficientFunds,
                "the wallet \(from.checksummed) holds \(Wei.format(balance)) but \(call.summary) may cost up to "
                    + "\(Wei.format(maxCost)) (value \(Wei.format(call.value)) + \(gasLimit) gas × "
                    + "\(Wei.formatGwei(fees.maxPerGas))): fund the wallet first; nothing was sent")
        }
        return Prepared(
            call: call, signed: transaction.signed(by: key), estimatedGas: estimate, baseFee: baseFee, balance: balance)
    }

    /// Sends a prepared transaction and waits for its receipt; a mined revert throws
    /// `.reverted` with the reason found by replaying the call on the block before.
    public func send(_ prepared: Prepared, progress: @Sendable (SendProgress) -> Void = { _ in }) async throws
        -> TransactionReceipt
    {
        let hash = prepared.signed.hash
        do {
            let reported = try await client.sendRawTransaction(prepared.signed.raw)
            if reported != hash {
                throw WalletError(.rejected, "the endpoint reports hash \(reported.hex) for transaction \(hash.hex)")
            }
        } catch let error as JSONRPCError where error.kind == .rpc {
            // A retried send whose first attempt got through: "already known" while it
            // waits, "nonce too low" once it is mined. Either way it is ours, not a new one.
            let text = error.message.lowercased()
            var ours = text.contains("already known")
            if !ours, text.contains("nonce too low") {
                ours = (try? await client.transactionReceipt(hash)) != nil
            }
            if !ours { throw Self.rejection(error, prepared) }
        }
        progress(.sent(hash))
        let receipt = try await awaitReceipt(hash, progress: progress)
        progress(.mined(receipt))
        if !receipt.succeeded {
            let reason = await replayReason(prepared, block: receipt.blockNumber)
            throw WalletError(
                .reverted,
                "\(prepared.call.summary) reverted in block \(receipt.blockNumber)"
                    + (reason.map { ": \($0)" } ?? " (no reason given)")
                    + " — the gas (\(Wei.format(receipt.fee))) is spent; transaction \(hash.hex)",
                revertReason: reason)
        }
        return receipt
    }

    // MARK: steps

    private func estimateGas(_ call: ContractCall) async throws -> UInt64 {
        do {
            return try await client.estimateGas(from: key.address, to: call.to, value: call.value, data: call.data)
        } catch let error as JSONRPCError where error.isExecutionReverted {
            let reason = RevertReason.from(error)
            throw WalletError(
                .reverted,
                "the contract refuses \(call.summary): \(reason ?? "reverted without a reason"); nothing was sent",
                revertReason: reason)
        } catch let error as JSONRPCError
            where error.kind == .rpc
            && ["insufficient funds", "cannot afford"].contains(where: error.message.lowercased().contains)
        {
            throw WalletError(
                .insufficientFunds,
                "the wallet \(key.address.checksummed) cannot pay for \(call.summary) (\(error.message)): "
                    + "fund it first; nothing was sent")
        }
    }

    /// Asks the endpoint for what the policy needs and lets the policy decide.
    private func fees() async throws -> (EthereumTransaction.Fees, UInt256?) {
        if policy.legacy {
            return (try policy.legacyFees(gasPrice: try await client.gasPrice()), nil)
        }
        guard let baseFee = try await client.latestBaseFee() else {
            throw WalletError(.invalidInput, "the chain reports no baseFeePerGas (no EIP-1559): use --legacy")
        }
        let suggested = policy.priorityFeePerGas == nil ? try await client.maxPriorityFeePerGas() : nil
        return (try policy.eip1559Fees(baseFee: baseFee, suggestedTip: suggested), baseFee)
    }

    private func awaitReceipt(_ hash: Bytes32, progress: @Sendable (SendProgress) -> Void) async throws
        -> TransactionReceipt
    {
        let clock = ContinuousClock()
        let start = clock.now
        while true {
            if let receipt = try await client.transactionReceipt(hash) { return receipt }
            let elapsed = clock.now - start
            if elapsed >= policy.receiptTimeout {
                throw WalletError(
                    .receiptTimeout,
                    "transaction \(hash.hex) was sent but not mined within \(policy.receiptTimeout); it may still be: "
                        + "check it later (eth_getTransactionReceipt) before sending again")
            }
            progress(.waiting(hash, elapsed: elapsed))
            try await Task.sleep(for: policy.pollInterval)
        }
    }

    private func replayReason(_ prepared: Prepared, block: UInt64) async -> String? {
        let call = prepared.call
        do {
            _ = try await client.call(
                from: key.address, to: call.to, value: call.value, data: call.data, at: .number(max(1, block) - 1))
            return nil
        } catch let error as JSONRPCError {
            return RevertReason.from(error)
        } catch {
            return nil
        }
    }

    private static func rejection(_ error: JSONRPCError, _ prepared: Prepared) -> WalletError {
        let text = error.message.lowercased()
        if text.contains("insufficient funds") {
            return WalletError(
                .insufficientFunds,
                "the endpoint refused \(prepared.call.summary): \(error.message) — fund the wallet "
                    + "\(prepared.signed.from.checksummed); nothing was sent")
        }
        if text.contains("nonce too low") || text.contains("replacement transaction underpriced") {
            return WalletError(
                .rejected,
                "the endpoint refused the transaction: \(error.message) — another transaction from this wallet "
                    + "came first; run the command again (it reads the nonce anew)")
        }
        return WalletError(.rejected, "the endpoint refused \(prepared.call.summary): \(error.message)")
    }
}
