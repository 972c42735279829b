import ChainReader
import Foundation

/// Amounts of the chain's coin (ether on the devnet and Ethereum, POL on Polygon; both
/// have 18 decimals) in wei, parsed from what an operator types and printed back.
public enum Wei {
    public static let perGwei = UInt256(1_000_000_000)
    public static let perEther = UInt256(1_000_000_000_000_000_000)

    /// Parses `5`, `0.25`, `5ether`, `30gwei`, `1000wei` (a bare number is in ether: 18
    /// decimals). Spaces between number and unit are allowed. Nil when malformed, with
    /// more decimals than the unit has, or too large.
    public static func parse(_ text: String) -> UInt256? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Int)] = [("gwei", 9), ("ether", 18), ("eth", 18), ("pol", 18), ("wei", 0)]
        var number = Substring(trimmed)
        var decimals = 18
        for (suffix, places) in units where trimmed.hasSuffix(suffix) {
            number = trimmed.dropLast(suffix.count)
            decimals = places
            break
        }
        number = Substring(number.trimmingCharacters(in: .whitespaces))
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty || parts.count == 2 else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= decimals, !(whole.isEmpty && fraction.isEmpty) else { return nil }
        let digits =
            (whole.isEmpty ? "0" : String(whole)) + fraction + String(repeating: "0", count: decimals - fraction.count)
        return UInt256(decimal: digits)
    }

    /// `12.5 ether` style text (trailing zeros trimmed), with the exact wei in parentheses
    /// when it is not a whole number of gwei.
    public static func format(_ wei: UInt256, unit: String = "ether") -> String {
        decimalText(wei, decimals: 18, unit: unit)
    }

    /// `30 gwei` (up to 9 decimals).
    public static func formatGwei(_ wei: UInt256) -> String {
        decimalText(wei, decimals: 9, unit: "gwei")
    }

    /// `wei` divided by 10^decimals, trailing zeros of the fraction trimmed, then `unit`.
    private static func decimalText(_ wei: UInt256, decimals: Int, unit: String) -> String {
        let digits = wei.description
        let padded = String(repeating: "0", count: max(0, decimals + 1 - digits.count)) + digits
        let whole = padded.dropLast(decimals)
        var fraction = String(padded.suffix(decimals))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole) \(unit)" : "\(whole).\(fraction) \(unit)"
    }
}
