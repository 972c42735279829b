/// The standard Ethereum methods, typed. Malformed results throw
/// `JSONRPCError` of kind `.invalidResponse` naming the method and the field.
extension JSONRPCClient {
    /// eth_chainId.
    public func chainID() async throws -> UInt64 {
        try quantity(await call("eth_chainId"), method: "eth_chainId", field: "result")
    }

    /// eth_blockNumber: the endpoint's newest block.
    public func blockNumber() async throws -> UInt64 {
        try quantity(await call("eth_blockNumber"), method: "eth_blockNumber", field: "result")
    }

    /// eth_getBlockByNumber (without transactions); nil when the block does not exist (yet).
    /// A result that does not parse fails over to the next endpoint.
    public func block(_ tag: BlockTag) async throws -> BlockHeader? {
        try await call("eth_getBlockByNumber", Self.blockParams(tag)) { try self.blockHeader(from: $0) }
    }

    static func blockParams(_ tag: BlockTag) -> [JSONValue] { [tag.jsonValue, false] }

    /// An eth_getBlockByNumber result (null: no such block), with its hash recomputed
    /// from its fields (`BlockHeader.recomputedHash`).
    package func blockHeader(from result: JSONValue) throws -> BlockHeader? {
        let method = "eth_getBlockByNumber"
        if result.isNull { return nil }
        guard case .object(let object) = result else { throw invalid(method, "result is not an object") }
        return BlockHeader(
            number: try quantity(object["number"], method: method, field: "number"),
            hash: try bytes32(object["hash"], method: method, field: "hash"),
            parentHash: try bytes32(object["parentHash"], method: method, field: "parentHash"),
            timestamp: try quantity(object["timestamp"], method: method, field: "timestamp"),
            stateRoot: try object["stateRoot"].map { try bytes32($0, method: method, field: "stateRoot") },
            recomputedHash: BlockHeader.recomputedHash(json: object))
    }

    /// eth_call: the return data of calling `to` with `data` on the state at `block`.
    public func ethCall(to: EthereumAddress, data: [UInt8], at block: BlockTag = .latest) async throws -> [UInt8] {
        try await ethCall(to: to, data: data, at: block) { $0 }
    }

    /// eth_call, its return data decoded by `decode` (e.g. ABI decoding): return data
    /// that does not decode fails over to the next endpoint (JSONRPCClient.call(_:_:decode:)).
    public func ethCall<T>(
        to: EthereumAddress, data: [UInt8], at block: BlockTag = .latest, decode: ([UInt8]) throws -> T
    ) async throws -> T {
        let tx: JSONValue = ["to": .string(to.hex), "data": .string(Hex.encode(data))]
        return try await call("eth_call", [tx, block.jsonValue]) { result in
            guard let text = result.stringValue, let bytes = Hex.decode(text) else {
                throw invalid("eth_call", "result is not hex data: \(result)")
            }
            return try decode(bytes)
        }
    }

    /// eth_getLogs for `address` over blocks from...to, topic0 one of `topic0` (any if empty).
    public func logs(address: EthereumAddress, from: UInt64, to: UInt64, topic0: [Bytes32] = []) async throws
        -> [EthereumLog]
    {
        let result = try await call("eth_getLogs", Self.logsParams(address: address, from: from, to: to, topic0: topic0))
        return try logs(fromResult: result)
    }

    /// eth_getLogs parameters: one filter object.
    static func logsParams(address: EthereumAddress, from: UInt64, to: UInt64, topic0: [Bytes32]) -> [JSONValue] {
        var filter: [String: JSONValue] = [
            "address": .string(address.hex), "fromBlock": .string(Hex.quantity(from)),
            "toBlock": .string(Hex.quantity(to)),
        ]
        if !topic0.isEmpty { filter["topics"] = [.array(topic0.map { .string($0.hex) })] }
        return [.object(filter)]
    }

    /// The logs of an eth_getLogs result (the fuzz target `jsonrpc` calls it).
    package func logs(fromResult result: JSONValue) throws -> [EthereumLog] {
        let method = "eth_getLogs"
        guard let entries = result.arrayValue else { throw invalid(method, "result is not an array") }
        return try entries.map { try log($0, method: method) }
    }

    private func log(_ value: JSONValue, method: String) throws -> EthereumLog {
        guard case .object(let o) = value else { throw invalid(method, "log entry is not an object") }
        guard let addressText = o["address"]?.stringValue, let address = EthereumAddress(hex: addressText) else {
            throw invalid(method, "log address is missing or malformed")
        }
        guard let topicValues = o["topics"]?.arrayValue else { throw invalid(method, "log topics are missing") }
        guard let dataText = o["data"]?.stringValue, let data = Hex.decode(dataText) else {
            throw invalid(method, "log data is missing or not hex")
        }
        let transactionHash = o["transactionHash"].flatMap { $0.stringValue }.flatMap { Bytes32(hex: $0) }
        var removed = false
        if case .bool(let flag)? = o["removed"] { removed = flag }
        return EthereumLog(
            address: address,
            topics: try topicValues.map { try bytes32($0, method: method, field: "topics") },
            data: data,
            blockNumber: try quantity(o["blockNumber"], method: method, field: "blockNumber"),
            blockHash: try bytes32(o["blockHash"], method: method, field: "blockHash"),
            transactionHash: transactionHash,
            logIndex: try quantity(o["logIndex"], method: method, field: "logIndex"),
            removed: removed)
    }

    private func quantity(_ value: JSONValue?, method: String, field: String) throws -> UInt64 {
        guard let text = value?.stringValue, let number = Hex.quantity(text) else {
            throw invalid(method, "\(field) is not a hex quantity: \(value.map { "\($0)" } ?? "missing")")
        }
        return number
    }

    private func bytes32(_ value: JSONValue?, method: String, field: String) throws -> Bytes32 {
        guard let text = value?.stringValue, let hash = Bytes32(hex: text) else {
            throw invalid(method, "\(field) is not 32 bytes of hex: \(value.map { "\($0)" } ?? "missing")")
        }
        return hash
    }

    private func invalid(_ method: String, _ message: String) -> JSONRPCError {
        JSONRPCError(
            .invalidResponse, method: method,
            endpoint: configuration.endpoints.count == 1 ? Self.redacted(configuration.endpoints[0]) : "(any)",
            message: message)
    }
}
