/// An Ed25519 private key read from an unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"), as
/// `cryptography` writes it with `NoEncryption()`.
public struct Ed25519PrivateKey: Sendable {
    /// The 32-byte RFC 8032 seed.
    package let seed: [UInt8]
    /// libsodium's 64-byte secret key (seed || public key).
    let secretKey: [UInt8]
    public let publicKey: Ed25519PublicKey

    /// DER of PKCS#8 v1 for Ed25519 (RFC 8410 7): version 0, AlgorithmIdentifier 1.3.101.112,
    /// OCTET STRING { OCTET STRING (32) }.
    static let pkcs8Prefix: [UInt8] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]

    public init(seed: [UInt8]) {
        precondition(seed.count == 32, "an Ed25519 seed has 32 bytes")
        self.seed = seed
        let pair = Sodium.keypair(seed: seed)
        self.secretKey = pair.secretKey
        self.publicKey = Ed25519PublicKey(raw: pair.publicKey)!
    }

    public init(pem: String) throws(KeyError) {
        if pem.contains("BEGIN ENCRYPTED PRIVATE KEY") { throw .encrypted }
        guard let der = PEM.decode(pem, label: "PRIVATE KEY") else { throw .notPKCS8PEM }
        // PKCS#8 v1 is exactly 48 bytes; v2 (OneAsymmetricKey) appends the public key.
        // Either way the fixed prefix is followed by the 32-byte seed.
        var prefix = Self.pkcs8Prefix
        if der.count > 48, der.count < 128, der[0] == 0x30, der[1] == UInt8(der.count - 2) {
            prefix[1] = der[1]
            prefix[4] = der[4]  // version 1
        }
        guard der.count >= 48, Array(der.prefix(16)) == prefix else { throw .notEd25519 }
        self.init(seed: Array(der[16..<48]))
    }

    /// Ed25519 signature (64 bytes) of `message`.
    public func signature(for message: [UInt8]) -> [UInt8] {
        Sodium.sign(message: message, secretKey: secretKey)
    }

    /// The unencrypted PKCS#8 PEM (as `cryptography` writes it with NoEncryption()).
    public var pem: String { PEM.encode(Self.pkcs8Prefix + seed, label: "PRIVATE KEY") }
}

/// Why a private key file could not be used.
public enum KeyError: Error, Equatable, CustomStringConvertible {
    case encrypted
    case notPKCS8PEM
    case notEd25519
    /// An encrypted key in a scheme other than PBES2/PBKDF2-HMAC-SHA256/AES-CBC.
    case unsupportedEncryption
    /// The password does not decrypt the key.
    case wrongPassword

    public var description: String {
        switch self {
        case .encrypted:
            "the private key is encrypted and no password was given: set ONEBZ_KEY_PASSWORD, pass "
                + "--key-password-file FILE, or run in a terminal to be asked; or decrypt it once with "
                + "`openssl pkey -in KEY -out plain.pem` (it asks for the password) and pass plain.pem (chmod 600)"
        case .notPKCS8PEM: "not a PKCS#8 PEM private key (expected -----BEGIN PRIVATE KEY-----)"
        case .notEd25519: "not an Ed25519 private key (PKCS#8 with OID 1.3.101.112 expected)"
        case .unsupportedEncryption:
            "the key is encrypted with a scheme other than PBES2 (PBKDF2-HMAC-SHA256, AES-CBC); re-encrypt it "
                + "with `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256`"
        case .wrongPassword: "wrong password for the encrypted private key"
        }
    }
}
