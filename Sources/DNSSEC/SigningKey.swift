import Crypto
import DNSWire

/// One DNSSEC key of the zone: its DNSKEY RDATA (flags, protocol 3, algorithm, public
/// key) and the private key that signs with it. Signing uses swift-crypto (BoringSSL):
/// no hand-written cryptography.
public struct SigningKey: Sendable {
    public let algorithm: DNSSECAlgorithm
    /// 257 (SEP, a CSK or KSK) or 256 (ZSK), RFC 4034 2.1.1.
    public let flags: UInt16
    /// The public key as DNSKEY carries it: P-256 `x || y` (64 bytes, RFC 6605 4),
    /// Ed25519 the 32-byte key (RFC 8080 3).
    public let publicKey: [UInt8]
    private let secret: Secret

    private enum Secret: Sendable {
        case p256(P256.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    /// A key from the private key bytes of a BIND `.private` file (`PrivateKey:`):
    /// the P-256 scalar (32 bytes) or the Ed25519 seed (32 bytes).
    public init(algorithm: DNSSECAlgorithm, flags: UInt16, privateKey: [UInt8]) throws(DNSSECError) {
        self.algorithm = algorithm
        self.flags = flags
        do {
            switch algorithm {
            case .ecdsaP256SHA256:
                let key = try P256.Signing.PrivateKey(rawRepresentation: privateKey)
                secret = .p256(key)
                publicKey = Array(key.publicKey.rawRepresentation)
            case .ed25519:
                let key = try Curve25519.Signing.PrivateKey(rawRepresentation: privateKey)
                secret = .ed25519(key)
                publicKey = Array(key.publicKey.rawRepresentation)
            default:
                throw DNSSECError("algorithm \(algorithm.rawValue) is not supported (use 13 or 15)")
            }
        } catch let error as DNSSECError {
            throw error
        } catch {
            throw DNSSECError("the private key is not a valid \(algorithm.mnemonic) key: \(error)")
        }
    }

    /// A new random key.
    public static func generate(algorithm: DNSSECAlgorithm, flags: UInt16 = 257) throws(DNSSECError) -> SigningKey {
        switch algorithm {
        case .ecdsaP256SHA256:
            return try SigningKey(
                algorithm: algorithm, flags: flags, privateKey: Array(P256.Signing.PrivateKey().rawRepresentation))
        case .ed25519:
            return try SigningKey(
                algorithm: algorithm, flags: flags, privateKey: Array(Curve25519.Signing.PrivateKey().rawRepresentation))
        default:
            throw DNSSECError("algorithm \(algorithm.rawValue) is not supported (use 13 or 15)")
        }
    }

    /// The private key bytes as a BIND `.private` file stores them.
    public var privateKeyBytes: [UInt8] {
        switch secret {
        case .p256(let key): Array(key.rawRepresentation)
        case .ed25519(let key): Array(key.rawRepresentation)
        }
    }

    /// DNSKEY RDATA (RFC 4034 2.1): flags, protocol 3, algorithm, public key.
    public var dnskeyRDATA: [UInt8] {
        [UInt8(flags >> 8), UInt8(flags & 0xFF), 3, algorithm.rawValue] + publicKey
    }

    /// RFC 4034 Appendix B.
    public var keyTag: UInt16 { KeyTag.compute(dnskeyRDATA: dnskeyRDATA) }

    public var isSecureEntryPoint: Bool { flags & 1 != 0 }

    /// The signature over `data`: ECDSA P-256 over SHA-256 as the 64-byte `r || s`
    /// (RFC 6605 4), or the 64-byte Ed25519 signature (RFC 8080 4).
    public func sign(_ data: [UInt8]) throws(DNSSECError) -> [UInt8] {
        do {
            switch secret {
            case .p256(let key): return Array(try key.signature(for: data).rawRepresentation)
            case .ed25519(let key): return Array(try key.signature(for: data))
            }
        } catch {
            throw DNSSECError("signing with key \(keyTag) failed: \(error)")
        }
    }
}

/// RFC 4034 Appendix B: the key tag of a DNSKEY RDATA.
public enum KeyTag {
    public static func compute(dnskeyRDATA rdata: [UInt8]) -> UInt16 {
        var accumulator: UInt32 = 0
        for (index, byte) in rdata.enumerated() {
            accumulator &+= index & 1 == 1 ? UInt32(byte) : UInt32(byte) << 8
        }
        accumulator &+= (accumulator >> 16) & 0xFFFF
        return UInt16(accumulator & 0xFFFF)
    }
}
