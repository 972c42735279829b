import ChainReader

/// The fields of eth_getTransactionReceipt that a sender reports.
public struct TransactionReceipt: Sendable, Hashable {
    public let transactionHash: Bytes32
    public let blockNumber: UInt64
    public let blockHash: Bytes32
    public let gasUsed: UInt64
    /// Wei per gas actually paid (base fee + tip, or the legacy gas price).
    public let effectiveGasPrice: UInt256
    /// status 0x1; false when the transaction reverted (it still paid for its gas).
    public let succeeded: Bool
    public let logCount: Int

    /// gasUsed × effectiveGasPrice.
    public var fee: UInt256 { effectiveGasPrice.multiplied(by: gasUsed) ?? .zero }
}
