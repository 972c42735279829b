/// A DNSSEC signing algorithm (RFC 8624), as an open struct over the wire value.
public struct DNSSECAlgorithm: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// ECDSA P-256 with SHA-256 (RFC 6605): the default, what validators support best.
    public static let ecdsaP256SHA256 = DNSSECAlgorithm(rawValue: 13)
    /// Ed25519 (RFC 8080).
    public static let ed25519 = DNSSECAlgorithm(rawValue: 15)

    /// The mnemonic of BIND key files (`Algorithm: 13 (ECDSAP256SHA256)`).
    public var mnemonic: String {
        switch rawValue {
        case 13: "ECDSAP256SHA256"
        case 15: "ED25519"
        default: "ALG\(rawValue)"
        }
    }

    public var description: String { mnemonic }

    /// `ecdsap256sha256` / `13` / `ed25519` / `15` (CLI and configuration spelling).
    public init?(text: String) {
        switch text.lowercased() {
        case "ecdsap256sha256", "ecdsa", "13": self = .ecdsaP256SHA256
        case "ed25519", "15": self = .ed25519
        default: return nil
        }
    }
}
