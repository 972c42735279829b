import DNSEngine
import DNSWire
import NodeRegistry

/// A name under `1bz.` that the chain answers
/// (docs/design.md#names-and-their-canonical-form): an alias registered with
/// `registerNode` (`shashi.1bz`), or a node-id name (`<base32 of node_id>.id.1bz`). The
/// JSON gateway also accepts `<64 hex>.1bz`.
package enum NodeName: Hashable, Sendable, CustomStringConvertible {
    /// Full lowercase name without the trailing dot, as the contract stores it.
    case alias(String)
    case nodeID(NodeID)

    /// The name in canonical presentation form, without the trailing dot.
    package var description: String {
        switch self {
        case .alias(let name): name
        case .nodeID(let id): id.dnsName
        }
    }

    /// Classifies a query name that the static zone does not hold. Nil means the name
    /// cannot be a node name (it is NXDOMAIN without asking the chain): more labels than
    /// a node name has, or a label with bytes a registered name never has. Aliases are
    /// LDH labels (letters, digits, hyphen; underscore too, as seen in service names),
    /// which also keeps escaped dots and control bytes away from `resolveDNS`.
    package init?(dnsName: Name) {
        let labels = dnsName.labels
        guard labels.count >= 2, Self.isApexLabel(labels[labels.count - 1]) else { return nil }
        if labels.count == 2 {
            guard let alias = Self.aliasLabel(labels[0]) else { return nil }
            self = .alias(alias + ".1bz")
        } else if labels.count == 3, Self.lowercaseASCII(labels[1]) == "id" {
            guard let label = Self.aliasLabel(labels[0]), let id = NodeID(dnsName: label + ".id.1bz") else {
                return nil
            }
            self = .nodeID(id)
        } else {
            return nil
        }
    }

    /// Parses what a person typed into the gateway: `shashi.1bz`, `<base32>.id.1bz`,
    /// `<64 hex>.1bz`; trailing dot optional, any case.
    package init(userText: String) throws(NodeLookupError) {
        var text = userText.trimmingWhitespace().lowercased()
        if text.hasSuffix(".") { text.removeLast() }
        guard text.hasSuffix(".1bz") else { throw .invalidName("\"\(userText)\" is not a .1bz name") }
        let first = text.dropLast(4)
        if first.utf8.count == 64, let id = NodeID(hex: first) {
            self = .nodeID(id)
            return
        }
        let name: Name
        do { name = try Name(text) } catch { throw .invalidName("\"\(userText)\" is not a valid DNS name") }
        guard let parsed = NodeName(dnsName: name) else {
            throw .invalidName(
                "\"\(userText)\" is not a node name: expected NAME.1bz, <52 base32>.id.1bz or <64 hex>.1bz")
        }
        self = parsed
    }

    /// The name a `NodeRegistered` event carries, taken only when the contract's string
    /// is already canonical: exactly what `RegistryName.validate` accepts unchanged (one
    /// lowercase LDH label under `1bz`, no trailing dot, within the length limits, not
    /// `id`). Anything else (`SHASHI.1bz`, `shashi.1bz.`, ` shashi.1bz`) is not a 1bz
    /// name: it never touches the zone, so a variant registered by someone else cannot
    /// move or drop the alias that `resolveDNS(canonical)` gives its owner
    /// (docs/robustness.md, "Names on chain").
    package init?(chainString: String) {
        guard case .success(let canonical) = RegistryName.validate(chainString), canonical == chainString else {
            return nil
        }
        self = .alias(chainString)
    }

    /// Whether a label could be an alias label (LDH or underscore, any case; the
    /// test `aliasLabel` makes), without allocating.
    package static func isAliasLabel(_ label: UnsafeRawBufferPointer) -> Bool {
        guard !label.isEmpty else { return false }
        for byte in label {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                continue
            default:
                return false
            }
        }
        return true
    }

    private static func isApexLabel(_ label: ArraySlice<UInt8>) -> Bool { lowercaseASCII(label) == "1bz" }

    private static func lowercaseASCII(_ label: ArraySlice<UInt8>) -> String {
        String(decoding: label.map { (65...90).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// The label in lowercase when every byte is LDH or underscore, else nil.
    private static func aliasLabel(_ label: ArraySlice<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(label.count)
        for byte in label {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"):
                out.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                out.append(byte | 0x20)
            default:
                return nil
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(self.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
