/// Which state a read sees: a block number or one of the standard tags. Polygon's
/// `finalized` (milestones) is final within seconds (docs/design.md#chain).
public enum BlockTag: Sendable, Hashable, CustomStringConvertible {
    case latest
    case finalized
    case safe
    case earliest
    case pending
    case number(UInt64)

    /// The JSON-RPC parameter (`"latest"`, `"0x1b4"`).
    public var jsonValue: JSONValue { .string(description) }

    public var description: String {
        switch self {
        case .latest: "latest"
        case .finalized: "finalized"
        case .safe: "safe"
        case .earliest: "earliest"
        case .pending: "pending"
        case .number(let n): Hex.quantity(n)
        }
    }
}
