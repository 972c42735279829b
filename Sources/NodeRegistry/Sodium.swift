import CSodium

/// Thin wrappers over libsodium: SHA-256 and Ed25519. `sodium_init` is called once,
/// lazily, before the first use (it is idempotent and thread-safe).
enum Sodium {
    private static let initialised: Bool = sodium_init() >= 0

    static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        precondition(initialised, "libsodium failed to initialise")
        let input = Array(bytes)
        var out = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        _ = crypto_hash_sha256(&out, input, UInt64(input.count))
        return out
    }

    /// True when `signature` (64 bytes) is a valid Ed25519 signature of `message` by `publicKey` (32 bytes).
    static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        precondition(initialised, "libsodium failed to initialise")
        guard signature.count == Int(crypto_sign_BYTES), publicKey.count == Int(crypto_sign_PUBLICKEYBYTES)
        else { return false }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }

    /// (public key, 64-byte secret key) from a 32-byte Ed25519 seed (RFC 8032 private key).
    static func keypair(seed: [UInt8]) -> (publicKey: [UInt8], secretKey: [UInt8]) {
        precondition(initialised, "libsodium failed to initialise")
        precondition(seed.count == Int(crypto_sign_SEEDBYTES))
        var pk = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var sk = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        _ = crypto_sign_seed_keypair(&pk, &sk, seed)
        return (pk, sk)
    }

    static func sign(message: [UInt8], secretKey: [UInt8]) -> [UInt8] {
        precondition(initialised, "libsodium failed to initialise")
        var sig = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        var len: UInt64 = 0
        _ = crypto_sign_detached(&sig, &len, message, UInt64(message.count), secretKey)
        return sig
    }
}
