import CSecp256k1
import ChainReader

/// A secp256k1 account key: signs transaction digests with libsecp256k1 (recoverable
/// ECDSA, RFC 6979 nonces, low-S as Ethereum requires since Homestead). The secret never
/// leaves this type; `description` shows the address only.
public struct WalletKey: Sendable, CustomStringConvertible {
    private let secret: [UInt8]
    /// keccak256(uncompressed public key without the 0x04 prefix), last 20 bytes.
    public let address: EthereumAddress

    /// A 32-byte secret; throws unless it is a valid key (non-zero, below the group order).
    public init(secret: [UInt8]) throws(WalletError) {
        guard secret.count == 32 else {
            throw WalletError(.invalidKey, "a secp256k1 private key has 32 bytes, not \(secret.count)")
        }
        let context = Secp256k1Context()
        guard secp256k1_ec_seckey_verify(context.pointer, secret) == 1 else {
            throw WalletError(.invalidKey, "not a valid secp256k1 private key (zero or not below the curve order)")
        }
        var publicKey = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_create(context.pointer, &publicKey, secret) == 1 else {
            throw WalletError(.invalidKey, "libsecp256k1 could not derive the public key")
        }
        self.secret = secret
        self.address = Self.address(of: publicKey, context: context)
    }

    public var description: String { "WalletKey(\(address.checksummed))" }

    /// Signs a 32-byte digest: (r, s, recovery id 0/1).
    public func sign(digest: [UInt8]) -> RecoverableSignature {
        precondition(digest.count == 32, "sign a 32-byte digest")
        let context = Secp256k1Context()
        var signature = secp256k1_ecdsa_recoverable_signature()
        // RFC 6979 deterministic nonce (nil noncefp = the default); fails only for an invalid key.
        let ok = secp256k1_ecdsa_sign_recoverable(context.pointer, &signature, digest, secret, nil, nil)
        precondition(ok == 1, "libsecp256k1 refused to sign with a key it accepted")
        var compact = [UInt8](repeating: 0, count: 64)
        var recoveryID: Int32 = 0
        _ = secp256k1_ecdsa_recoverable_signature_serialize_compact(context.pointer, &compact, &recoveryID, &signature)
        return RecoverableSignature(
            r: Array(compact[0..<32]), s: Array(compact[32..<64]), recoveryID: UInt8(recoveryID))
    }

    /// The address whose key made `signature` over `digest`, or nil if it does not recover.
    public static func recoverAddress(digest: [UInt8], signature: RecoverableSignature) -> EthereumAddress? {
        guard digest.count == 32, signature.recoveryID < 4 else { return nil }
        let context = Secp256k1Context()
        var parsed = secp256k1_ecdsa_recoverable_signature()
        guard
            secp256k1_ecdsa_recoverable_signature_parse_compact(
                context.pointer, &parsed, signature.r + signature.s, Int32(signature.recoveryID)) == 1
        else { return nil }
        var publicKey = secp256k1_pubkey()
        guard secp256k1_ecdsa_recover(context.pointer, &publicKey, &parsed, digest) == 1 else { return nil }
        return address(of: publicKey, context: context)
    }

    private static func address(of publicKey: secp256k1_pubkey, context: Secp256k1Context) -> EthereumAddress {
        var key = publicKey
        var serialized = [UInt8](repeating: 0, count: 65)
        var length = 65
        _ = secp256k1_ec_pubkey_serialize(
            context.pointer, &serialized, &length, &key, UInt32(SECP256K1_EC_UNCOMPRESSED))
        return EthereumAddress(unchecked: Array(Keccak256.hash(serialized[1..<65]).suffix(20)))
    }
}

/// An ECDSA signature with its public-key recovery id (Ethereum's y-parity).
public struct RecoverableSignature: Sendable, Hashable {
    public let r: [UInt8]
    public let s: [UInt8]
    public let recoveryID: UInt8
}

/// A libsecp256k1 context for one operation (creation is cheap since 0.2: the signing
/// tables are static), destroyed when released; never shared between threads.
private final class Secp256k1Context {
    let pointer: OpaquePointer

    init() {
        guard let context = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else {
            fatalError("libsecp256k1: secp256k1_context_create failed")
        }
        pointer = context
    }

    deinit { secp256k1_context_destroy(pointer) }
}
