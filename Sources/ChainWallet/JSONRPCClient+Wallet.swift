import ChainReader

/// The JSON-RPC methods a sender needs beyond reading: nonce, balance, fees, gas
/// estimate, raw send, receipt. Malformed results are `.invalidResponse` errors.
extension JSONRPCClient {
    /// eth_getTransactionCount at "pending": the next nonce, counting queued transactions.
    public func transactionCount(of address: EthereumAddress) async throws -> UInt64 {
        let result = try await call("eth_getTransactionCount", [.string(address.hex), "pending"])
        return try walletQuantity64(result, "eth_getTransactionCount")
    }

    /// eth_getBalance at "latest", in wei.
    public func balance(of address: EthereumAddress) async throws -> UInt256 {
        try walletQuantity(await call("eth_getBalance", [.string(address.hex), "latest"]), "eth_getBalance")
    }

    /// eth_gasPrice: the legacy price (on EIP-1559 chains, base fee + a tip).
    public func gasPrice() async throws -> UInt256 {
        try walletQuantity(await call("eth_gasPrice"), "eth_gasPrice")
    }

    /// eth_maxPriorityFeePerGas; nil when the endpoint does not have the method.
    public func maxPriorityFeePerGas() async throws -> UInt256? {
        do {
            return try walletQuantity(await call("eth_maxPriorityFeePerGas"), "eth_maxPriorityFeePerGas")
        } catch let error as JSONRPCError where error.kind == .rpc && error.rpcCode == -32601 {
            return nil
        }
    }

    /// The newest block's baseFeePerGas; nil on a chain without EIP-1559.
    public func latestBaseFee() async throws -> UInt256? {
        let block = try await call("eth_getBlockByNumber", ["latest", false])
        guard let text = block["baseFeePerGas"]?.stringValue else { return nil }
        return try walletQuantity(.string(text), "eth_getBlockByNumber")
    }

    /// eth_estimateGas for a call from `from`. A revert throws JSONRPCError (isExecutionReverted).
    public func estimateGas(from: EthereumAddress, to: EthereumAddress, value: UInt256, data: [UInt8]) async throws
        -> UInt64
    {
        let tx: JSONValue = [
            "from": .string(from.hex), "to": .string(to.hex), "value": .string(value.quantity),
            "data": .string(Hex.encode(data)),
        ]
        return try walletQuantity64(await call("eth_estimateGas", [tx]), "eth_estimateGas")
    }

    /// eth_call as `from` with `value` at `block` (replaying a transaction for its revert reason).
    public func call(from: EthereumAddress, to: EthereumAddress, value: UInt256, data: [UInt8], at block: BlockTag)
        async throws -> [UInt8]
    {
        let tx: JSONValue = [
            "from": .string(from.hex), "to": .string(to.hex), "value": .string(value.quantity),
            "data": .string(Hex.encode(data)),
        ]
        let result = try await call("eth_call", [tx, block.jsonValue])
        guard let text = result.stringValue, let bytes = Hex.decode(text) else {
            throw JSONRPCError.walletInvalid("eth_call", "result is not hex data")
        }
        return bytes
    }

    /// eth_sendRawTransaction: the transaction hash the endpoint reports.
    public func sendRawTransaction(_ raw: [UInt8]) async throws -> Bytes32 {
        let result = try await call("eth_sendRawTransaction", [.string(Hex.encode(raw))])
        guard let text = result.stringValue, let hash = Bytes32(hex: text) else {
            throw JSONRPCError.walletInvalid("eth_sendRawTransaction", "result is not a transaction hash: \(result)")
        }
        return hash
    }

    /// eth_getTransactionReceipt; nil while the transaction is not mined.
    public func transactionReceipt(_ hash: Bytes32) async throws -> TransactionReceipt? {
        let method = "eth_getTransactionReceipt"
        let result = try await call(method, [.string(hash.hex)])
        if result.isNull { return nil }
        guard let blockHashText = result["blockHash"]?.stringValue, let blockHash = Bytes32(hex: blockHashText) else {
            throw JSONRPCError.walletInvalid(method, "receipt has no blockHash")
        }
        return TransactionReceipt(
            transactionHash: hash,
            blockNumber: try walletQuantity64(result["blockNumber"] ?? .null, method),
            blockHash: blockHash,
            gasUsed: try walletQuantity64(result["gasUsed"] ?? .null, method),
            effectiveGasPrice: (try? walletQuantity(result["effectiveGasPrice"] ?? .null, method)) ?? .zero,
            succeeded: result["status"]?.stringValue == "0x1",
            logCount: result["logs"]?.arrayValue?.count ?? 0)
    }

    private func walletQuantity(_ value: JSONValue, _ method: String) throws -> UInt256 {
        guard let text = value.stringValue, let number = UInt256(quantity: text) else {
            throw JSONRPCError.walletInvalid(method, "not a hex quantity: \(value)")
        }
        return number
    }

    private func walletQuantity64(_ value: JSONValue, _ method: String) throws -> UInt64 {
        guard let text = value.stringValue, let number = Hex.quantity(text) else {
            throw JSONRPCError.walletInvalid(method, "not a 64-bit hex quantity: \(value)")
        }
        return number
    }
}

extension JSONRPCError {
    static func walletInvalid(_ method: String, _ message: String) -> JSONRPCError {
        JSONRPCError(.invalidResponse, method: method, endpoint: "(rpc)", message: message)
    }
}
