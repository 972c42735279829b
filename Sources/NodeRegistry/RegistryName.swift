/// The rules a name must meet before `registerNode` is sent
/// (docs/design.md#names-and-their-canonical-form): one LDH label directly under `1bz`,
/// lowercase, as the contract stores it and onebzd looks it up. The chain would accept
/// anything up to 253 bytes; a name that DNS can never ask for would waste the fee and
/// the name.
public enum RegistryName {
    /// The contract's String[253] bound.
    public static let maxBytes = 253

    /// The canonical name (a trailing dot dropped) or the reason it cannot be registered.
    public static func validate(_ text: String) -> Result<String, NameError> {
        var name = Substring(text)
        if name.hasSuffix(".") { name = name.dropLast() }
        guard name.utf8.count <= maxBytes else {
            return .failure(NameError("\(text): longer than \(maxBytes) bytes, the contract's limit"))
        }
        guard name.hasSuffix(".1bz") else { return .failure(NameError("\(text): must end in .1bz (e.g. shashi.1bz)")) }
        let label = name.dropLast(".1bz".count)
        if label.lowercased() != label {
            return .failure(NameError("\(text): must be lowercase (\(name.lowercased()) is what DNS looks up)"))
        }
        guard !label.isEmpty else { return .failure(NameError("\(text): the label before .1bz is empty")) }
        guard !label.contains(".") else {
            return .failure(
                NameError("\(text): one label only directly under 1bz (\(label.split(separator: ".").last!).1bz)"))
        }
        guard label.utf8.count <= 63 else {
            return .failure(NameError("\(text): the label is longer than 63 bytes (RFC 1035)"))
        }
        guard label.utf8.allSatisfy({ (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2d }) else {
            return .failure(NameError("\(text): only letters a-z, digits and '-' (LDH; IDN names in their xn-- form)"))
        }
        guard !label.hasPrefix("-"), !label.hasSuffix("-") else {
            return .failure(NameError("\(text): a label neither starts nor ends with '-'"))
        }
        guard label != "id" else { return .failure(NameError("\(text): id.1bz is where node-id names live")) }
        if label.count >= 4, label.dropFirst(2).hasPrefix("--"), !label.hasPrefix("xn") {
            return .failure(NameError("\(text): '--' in the third and fourth place is reserved for xn-- (RFC 5891)"))
        }
        return .success(String(name))
    }

    public struct NameError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
