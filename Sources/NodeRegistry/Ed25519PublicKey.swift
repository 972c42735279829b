/// An Ed25519 public key, with the SubjectPublicKeyInfo PEM form that Python
/// `cryptography` writes (and whose bytes define the node_id).
public struct Ed25519PublicKey: Hashable, Sendable {
    /// The 32-byte key.
    public let raw: [UInt8]

    /// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 4): SEQUENCE { SEQUENCE { OID
    /// 1.3.101.112 }, BIT STRING (0 unused bits) }, followed by the 32 key bytes.
    static let spkiPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]

    public init?(raw: [UInt8]) {
        guard raw.count == 32 else { return nil }
        self.raw = raw
    }

    /// Parses the base64 of the 32-byte key (the `pk=ed25519:<base64>` TXT value).
    public init?(base64: some StringProtocol) {
        guard let b = Base64.decode(base64), b.count == 32 else { return nil }
        self.raw = b
    }

    /// Parses an SPKI PEM ("BEGIN PUBLIC KEY"). Accepts any line wrapping; use
    /// `pem == text` to also require the canonical bytes.
    public init?(pem: String) {
        guard let der = PEM.decode(pem, label: "PUBLIC KEY"), der.count == 44,
            Array(der.prefix(12)) == Self.spkiPrefix
        else { return nil }
        self.raw = Array(der.suffix(32))
    }

    private static let pemHead = Array("-----BEGIN PUBLIC KEY-----\n".utf8)
    private static let pemTail = Array("\n-----END PUBLIC KEY-----\n".utf8)

    /// Parses the canonical PEM only (`pem` of the key, byte for byte): one 60-character
    /// line of canonical base64 between the armour lines. Nil for any other text, which
    /// `init(pem:)` may still read (then it is not canonical).
    public init?(canonicalPEM text: String) {
        var text = text
        guard let raw = text.withUTF8({ bytes -> [UInt8]? in
            guard bytes.count == Self.pemHead.count + 60 + Self.pemTail.count,
                bytes.prefix(Self.pemHead.count).elementsEqual(Self.pemHead),
                bytes.suffix(Self.pemTail.count).elementsEqual(Self.pemTail),
                let der = Base64.decodeCanonical(bytes[Self.pemHead.count..<(Self.pemHead.count + 60)]),
                der.count == 44, der.prefix(12).elementsEqual(Self.spkiPrefix)
            else { return nil }
            return Array(der.suffix(32))
        }) else { return nil }
        self.raw = raw
    }

    /// The canonical PEM: identical to `cryptography`'s
    /// `public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)`, trailing newline included.
    public var pem: String { PEM.encode(Self.spkiPrefix + raw, label: "PUBLIC KEY") }

    public var base64: String { Base64.encode(raw) }

    /// The DER SubjectPublicKeyInfo (RFC 8410 4): what a certificate carries as its key.
    public var spkiDER: [UInt8] { Self.spkiPrefix + raw }

    /// SHA-256 of `spkiDER`: the data of a TLSA 3 1 1 record (RFC 6698 2.1, RFC 7671
    /// 5.1: DANE-EE, SPKI, SHA-256) for a server presenting this key.
    public var spkiSHA256: [UInt8] { Sodium.sha256(spkiDER) }

    /// The node_id this key defines.
    public var nodeID: NodeID { NodeID(publicKey: self) }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        Sodium.verify(signature: signature, message: message, publicKey: raw)
    }
}
