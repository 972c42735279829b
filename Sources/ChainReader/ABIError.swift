/// Data that does not decode as the expected ABI types (a wrong contract address, a
/// node that answers garbage, a contract that changed). Public struct over a private
/// code so new cases do not break callers.
public struct ABIError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case truncated
        case badOffset
        case badValue
        case invalidUTF8
    }

    private let code: Code
    /// What was wrong, with the position in the data.
    public let detail: String

    private init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    static func truncated(_ detail: String) -> ABIError { ABIError(.truncated, detail) }
    static func badOffset(_ detail: String) -> ABIError { ABIError(.badOffset, detail) }
    static func badValue(_ detail: String) -> ABIError { ABIError(.badValue, detail) }
    static func invalidUTF8(_ detail: String) -> ABIError { ABIError(.invalidUTF8, detail) }

    public var description: String { "ABI decoding failed: \(detail)" }
}
