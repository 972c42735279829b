/// A decoded RLP item (the Ethereum Yellow Paper, appendix B): a byte string or a list.
public enum RLPItem: Sendable, Hashable {
    case bytes([UInt8])
    case list([RLPItem])

    public var bytesValue: [UInt8]? { if case .bytes(let b) = self { b } else { nil } }
    public var listValue: [RLPItem]? { if case .list(let l) = self { l } else { nil } }
}
