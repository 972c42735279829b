import ChainReader
import Foundation

/// The reason in revert data: `Error(string)` (what `assert x, "msg"` and `require`
/// produce) or `Panic(uint256)`; nil for empty or custom-error data.
public enum RevertReason {
    static let errorSelector: [UInt8] = [0x08, 0xc3, 0x79, 0xa0]
    static let panicSelector: [UInt8] = [0x4e, 0x48, 0x7b, 0x71]

    public static func decode(_ data: [UInt8]) -> String? {
        guard data.count >= 4 else { return nil }
        let selector = Array(data.prefix(4))
        let body = Array(data.dropFirst(4))
        if selector == errorSelector, let values = try? ABI.decode([.string], from: body) {
            return values[0].stringValue
        }
        if selector == panicSelector, let values = try? ABI.decode([.uint256], from: body) {
            return "panic \(values[0].uint256Value!)"
        }
        return nil
    }

    /// The reason carried by a JSON-RPC error: its `data` (hex, or an object with a `data`
    /// member, as some clients nest it), else the text after "execution reverted: ".
    public static func from(_ error: JSONRPCError) -> String? {
        if let text = error.data {
            let hex = text.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            if let bytes = Hex.decode(hex), let reason = decode(bytes) { return reason }
            if let range = text.range(of: "0x08c379a0"),
                let bytes = Hex.decode(text[range.lowerBound...].prefix { $0.isHexDigit || $0 == "x" }),
                let reason = decode(bytes)
            {
                return reason
            }
        }
        let prefix = "execution reverted: "
        if let range = error.message.range(of: prefix) {
            let reason = error.message[range.upperBound...].trimmingCharacters(in: .whitespaces)
            return reason.isEmpty ? nil : reason
        }
        return nil
    }
}
