/// One log entry as eth_getLogs returns it.
public struct EthereumLog: Sendable, Hashable {
    public let address: EthereumAddress
    public let topics: [Bytes32]
    public let data: [UInt8]
    public let blockNumber: UInt64
    public let blockHash: Bytes32
    public let transactionHash: Bytes32?
    public let logIndex: UInt64
    /// True when a node reports the log was removed by a reorg (filters only).
    public let removed: Bool

    public init(
        address: EthereumAddress, topics: [Bytes32], data: [UInt8], blockNumber: UInt64, blockHash: Bytes32,
        transactionHash: Bytes32?, logIndex: UInt64, removed: Bool = false
    ) {
        self.address = address
        self.topics = topics
        self.data = data
        self.blockNumber = blockNumber
        self.blockHash = blockHash
        self.transactionHash = transactionHash
        self.logIndex = logIndex
        self.removed = removed
    }
}
