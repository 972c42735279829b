/// Typed reads of the BizNodeRegistry contract (and its optional lookup helper) over
/// a `JSONRPCClient`. Every read takes the block whose state it should see; onebzd pins
/// reads to the follower's block so that the answer and the SOA serial agree.
public struct BizNodeRegistry: Sendable {
    public let client: JSONRPCClient
    public let address: EthereumAddress
    /// The BizNodeLookup helper (contracts/BizNodeLookup.vy): name -> node in one call.
    public let lookupAddress: EthereumAddress?

    /// Longest name the Vyper port accepts (String[253], the longest DNS name); longer
    /// names resolve to nil without a call.
    public static let maxNameBytes = 253

    public enum Signature {
        public static let nodes = "nodes(bytes32)"
        public static let dnsToNode = "dnsToNode(string)"
        public static let verificationFee = "verificationFee()"
        public static let owner = "owner()"
        public static let registerNode = "registerNode(bytes32,string)"
        public static let verifyNode = "verifyNode(bytes32)"
        public static let addStake = "addStake(bytes32)"
        public static let resolveDNS = "resolveDNS(string)"
        public static let updateVerificationFee = "updateVerificationFee(uint256)"
        public static let transferOwnership = "transferOwnership(address)"
        /// The helper's one function.
        public static let lookup = "lookup(string)"
        /// The contract's ten functions (Solidity signatures).
        public static let registryFunctions = [
            nodes, dnsToNode, verificationFee, owner, registerNode, verifyNode, addStake, resolveDNS,
            updateVerificationFee, transferOwnership,
        ]
    }

    package static let nodeTypes: [ABIType] = [.address, .string, .bool, .uint256, .uint256]

    public init(client: JSONRPCClient, address: EthereumAddress, lookupAddress: EthereumAddress? = nil) {
        self.client = client
        self.address = address
        self.lookupAddress = lookupAddress
    }

    /// `resolveDNS(name)`: the nodeHash, or nil when the name is not registered (zero).
    /// `name` is used as given: lowercase it first
    /// (docs/design.md#names-and-their-canonical-form).
    public func resolveDNS(_ name: String, at block: BlockTag = .latest) async throws -> Bytes32? {
        guard name.utf8.count <= Self.maxNameBytes else { return nil }
        let hash = try await client.ethCall(
            to: address, data: ABI.encodeCall(Signature.resolveDNS, [.string(name)]), at: block
        ) { try ABI.decode([.bytes32], from: $0)[0].bytes32Value! }
        return hash.isZero ? nil : hash
    }

    /// `nodes(nodeHash)`: the node, or nil when nothing is registered (zero wallet).
    public func node(_ nodeHash: Bytes32, at block: BlockTag = .latest) async throws -> Node? {
        return try await client.ethCall(
            to: address, data: ABI.encodeCall(Signature.nodes, [.bytes32(nodeHash)]), at: block
        ) { try Self.node(from: ABI.decode(Self.nodeTypes, from: $0)) }
    }

    /// Name -> nodeHash and node: one eth_call through the lookup helper when it is
    /// configured, else resolveDNS then nodes (two sequential calls at the same block).
    public func lookup(_ name: String, at block: BlockTag = .latest) async throws -> ResolvedNode? {
        guard name.utf8.count <= Self.maxNameBytes else { return nil }
        guard let lookupAddress else {
            guard let hash = try await resolveDNS(name, at: block) else { return nil }
            return try await node(hash, at: block).map { ResolvedNode(nodeHash: hash, node: $0) }
        }
        let values = try await client.ethCall(
            to: lookupAddress, data: ABI.encodeCall(Signature.lookup, [.string(name)]), at: block
        ) { try ABI.decode([.bytes32] + Self.nodeTypes, from: $0) }
        let hash = values[0].bytes32Value!
        guard !hash.isZero, let node = Self.node(from: Array(values.dropFirst())) else { return nil }
        return ResolvedNode(nodeHash: hash, node: node)
    }

    public func verificationFee(at block: BlockTag = .latest) async throws -> UInt256 {
        let data = try await client.ethCall(to: address, data: ABI.selector(Signature.verificationFee), at: block)
        return try ABI.decode([.uint256], from: data)[0].uint256Value!
    }

    public func owner(at block: BlockTag = .latest) async throws -> EthereumAddress {
        let data = try await client.ethCall(to: address, data: ABI.selector(Signature.owner), at: block)
        return try ABI.decode([.address], from: data)[0].addressValue!
    }

    /// The newest block number (eth_blockNumber), or the number of a tagged block
    /// (`.finalized`, `.safe`) through eth_getBlockByNumber.
    public func blockNumber(_ tag: BlockTag = .latest) async throws -> UInt64 {
        switch tag {
        case .latest: return try await client.blockNumber()
        case .number(let n): return n
        default:
            guard let header = try await client.block(tag) else {
                throw JSONRPCError(
                    .rpc, method: "eth_getBlockByNumber", endpoint: "(any)",
                    message: "the endpoint has no \(tag) block")
            }
            return header.number
        }
    }

    /// The header of a block (hash, parentHash); nil when it does not exist yet.
    public func block(_ number: UInt64) async throws -> BlockHeader? {
        try await client.block(.number(number))
    }

    /// The registry's events in blocks from...to (inclusive), in chain order. Logs of
    /// other events are skipped. May throw a JSONRPCError with `isRangeTooLarge`.
    public func logs(from: UInt64, to: UInt64) async throws -> [RegistryLog] {
        try registryLogs(try await client.logs(address: address, from: from, to: to, topic0: RegistryEvent.Topic.all))
    }

    /// The headers of blocks `from` and `to` and the registry's events between them, in
    /// one request to one endpoint (a JSON-RPC batch, sent in pieces to an endpoint that
    /// takes smaller ones): the logs and the headers come from the same node, so a
    /// lagging one cannot answer "no logs" for blocks whose headers another node sent.
    /// A header the endpoint does not have (null) fails over to the next endpoint, as
    /// "header not found" does; a range too large is thrown (`isRangeTooLarge`).
    public func range(from: UInt64, to: UInt64) async throws -> (first: BlockHeader, last: BlockHeader, logs: [RegistryLog]) {
        var calls: [(method: String, params: [JSONValue])] = [("eth_getBlockByNumber", JSONRPCClient.blockParams(.number(from)))]
        if to != from { calls.append(("eth_getBlockByNumber", JSONRPCClient.blockParams(.number(to)))) }
        calls.append(
            ("eth_getLogs", JSONRPCClient.logsParams(address: address, from: from, to: to, topic0: RegistryEvent.Topic.all)))
        return try await client.batch(calls) { results in
            // A failed element (a range too large, header not found) is thrown as is.
            let values = try results.map { try $0.get() }
            func header(_ value: JSONValue, _ number: UInt64) throws -> BlockHeader {
                guard let header = try client.blockHeader(from: value) else {
                    throw JSONRPCError(
                        .rpc, method: "eth_getBlockByNumber", endpoint: "(batch)",
                        message: "header not found: block \(number) (the endpoint lags)")
                }
                return header
            }
            let first = try header(values[0], from)
            let last = to == from ? first : try header(values[1], to)
            return (first, last, try registryLogs(try client.logs(fromResult: values[values.count - 1])))
        }
    }

    /// The timestamps of blocks `numbers`, read in JSON-RPC batches of `perBatch` headers
    /// (each sent in pieces to an endpoint that takes smaller ones). A block the endpoint
    /// does not have fails over like "header not found".
    public func timestamps(of numbers: [UInt64], perBatch: Int = 500) async throws -> [UInt64: UInt64] {
        var out: [UInt64: UInt64] = [:]
        out.reserveCapacity(numbers.count)
        var start = 0
        while start < numbers.count {
            let chunk = Array(numbers[start..<min(numbers.count, start + perBatch)])
            start += chunk.count
            let calls = chunk.map { (method: "eth_getBlockByNumber", params: JSONRPCClient.blockParams(.number($0))) }
            let times = try await client.batch(calls) { results in
                try zip(chunk, results).map { number, result -> UInt64 in
                    guard let header = try client.blockHeader(from: try result.get()), header.number == number else {
                        throw JSONRPCError(
                            .rpc, method: "eth_getBlockByNumber", endpoint: "(batch)",
                            message: "header not found: block \(number) (the endpoint lags)")
                    }
                    return header.timestamp
                }
            }
            for (number, time) in zip(chunk, times) { out[number] = time }
        }
        return out
    }

    private func registryLogs(_ raw: [EthereumLog]) throws -> [RegistryLog] {
        var out: [RegistryLog] = []
        for log in raw where !log.removed && log.address == address {
            guard let event = try RegistryEvent(log: log) else { continue }
            out.append(
                RegistryLog(
                    event: event, blockNumber: log.blockNumber, blockHash: log.blockHash, logIndex: log.logIndex,
                    transactionHash: log.transactionHash))
        }
        return out.sorted { ($0.blockNumber, $0.logIndex) < ($1.blockNumber, $1.logIndex) }
    }

    package static func node(from values: [ABIValue]) -> Node? {
        let wallet = values[0].addressValue!
        guard !wallet.isZero else { return nil }
        return Node(
            wallet: wallet, dnsName: values[1].stringValue!, verified: values[2].boolValue!,
            stakeAmount: values[3].uint256Value!, registeredAt: values[4].uint256Value!.uint64 ?? .max)
    }
}
