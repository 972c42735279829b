import ChainReader
import DNSWire

/// A node's identity: the SHA-256 of its public key PEM file bytes
/// (docs/design.md#names-and-their-canonical-form). Text form: 64 lowercase hex digits.
/// DNS form: `<base32, 52 chars>.id.1bz`.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// 64 lowercase hex digits.
    public var hex: String { Hex.encode(bytes, prefix: false) }
    public var description: String { hex }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Parses exactly 64 lowercase hex digits (the only textual form the registry accepts).
    public init?(hex: some StringProtocol) {
        // One pass over the UTF-8 (every record update parses two ids).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var count = 0
        var high: UInt8 = 0
        for c in hex.utf8 {
            let v: UInt8
            switch c {
            case 0x30...0x39: v = c - 0x30
            case 0x61...0x66: v = c - 0x61 + 10
            default: return nil
            }
            count += 1
            guard count <= 64 else { return nil }
            if count & 1 == 1 { high = v } else { bytes.append(high << 4 | v) }
        }
        guard count == 64 else { return nil }
        self.bytes = bytes
    }

    /// node_id of a public key PEM file, exactly as identity.py computes it.
    public init(publicKeyPEM: some Collection<UInt8>) {
        self.bytes = Sodium.sha256(publicKeyPEM)
    }

    public init(publicKey: Ed25519PublicKey) {
        self.init(publicKeyPEM: Array(publicKey.pem.utf8))
    }

    /// The chain key: Keccak-256 of the 64 ASCII hex digits.
    public var nodeHash: NodeHash { NodeHash(nodeID: self) }

    /// The 52-character base32 label (lowercase, no padding).
    public var base32Label: String { Base32.encode(bytes) }

    /// `<label>.id.1bz` (no trailing dot).
    public var dnsName: String { base32Label + ".id.1bz" }

    /// Parses `<52 base32 chars>.id.1bz` (any case, optional trailing dot), or the bare label.
    public init?(dnsName: some StringProtocol) {
        var name = Substring(dnsName).lowercased()[...]
        if name.hasSuffix(".") { name = name.dropLast() }
        if name.hasSuffix(".id.1bz") { name = name.dropLast(".id.1bz".count) }
        guard name.utf8.count == 52, let b = Base32.decode(name), b.count == 32 else { return nil }
        self.bytes = b
    }

    public static func < (a: NodeID, b: NodeID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
