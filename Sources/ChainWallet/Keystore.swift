import ChainReader
import Crypto
import Foundation
import _CryptoExtras

/// An Ethereum keystore v3 file (Web3 Secret Storage: what geth, MetaMask exports,
/// eth-account and Foundry's `cast wallet` write): the key encrypted with AES-128-CTR
/// under a key derived from the password by scrypt or PBKDF2-HMAC-SHA256, and
/// MAC = keccak256(derivedKey[16..<32] ‖ ciphertext), which tells a wrong password.
public struct Keystore: Sendable {
    public let address: EthereumAddress?
    let ciphertext: [UInt8]
    let iv: [UInt8]
    let mac: [UInt8]
    let kdf: Derivation

    enum Derivation: Sendable {
        case scrypt(salt: [UInt8], n: Int, r: Int, p: Int, dkLen: Int)
        case pbkdf2(salt: [UInt8], iterations: Int, dkLen: Int)
    }

    /// Parses the JSON; throws `.invalidKeystore` naming the missing or bad field.
    public init(json: Data) throws(WalletError) {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw WalletError(.invalidKeystore, "not a JSON object")
        }
        guard (object["version"] as? Int) == 3 else {
            throw WalletError(.invalidKeystore, "not a version 3 keystore (\"version\": 3)")
        }
        guard let crypto = (object["crypto"] ?? object["Crypto"]) as? [String: Any] else {
            throw WalletError(.invalidKeystore, "no \"crypto\" object")
        }
        func hex(_ value: Any?, _ field: String) throws(WalletError) -> [UInt8] {
            guard let text = value as? String, let bytes = Hex.decode(text) else {
                throw WalletError(.invalidKeystore, "\(field) is missing or not hex")
            }
            return bytes
        }
        guard (crypto["cipher"] as? String) == "aes-128-ctr" else {
            throw WalletError(.invalidKeystore, "cipher \(crypto["cipher"] ?? "missing") is not aes-128-ctr")
        }
        ciphertext = try hex(crypto["ciphertext"], "crypto.ciphertext")
        iv = try hex((crypto["cipherparams"] as? [String: Any])?["iv"], "crypto.cipherparams.iv")
        mac = try hex(crypto["mac"], "crypto.mac")
        guard iv.count == 16 else { throw WalletError(.invalidKeystore, "crypto.cipherparams.iv is not 16 bytes") }
        guard let params = crypto["kdfparams"] as? [String: Any] else {
            throw WalletError(.invalidKeystore, "no crypto.kdfparams")
        }
        let salt = try hex(params["salt"], "crypto.kdfparams.salt")
        let dkLen = params["dklen"] as? Int ?? 32
        guard dkLen >= 32 else { throw WalletError(.invalidKeystore, "crypto.kdfparams.dklen is below 32") }
        switch crypto["kdf"] as? String {
        case "scrypt":
            guard let n = params["n"] as? Int, let r = params["r"] as? Int, let p = params["p"] as? Int, n > 1, r > 0,
                p > 0, n & (n - 1) == 0
            else { throw WalletError(.invalidKeystore, "scrypt parameters n, r, p are missing or invalid") }
            kdf = .scrypt(salt: salt, n: n, r: r, p: p, dkLen: dkLen)
        case "pbkdf2":
            guard let c = params["c"] as? Int, c > 0, (params["prf"] as? String) == "hmac-sha256" else {
                throw WalletError(.invalidKeystore, "pbkdf2 needs c > 0 and prf hmac-sha256")
            }
            kdf = .pbkdf2(salt: salt, iterations: c, dkLen: dkLen)
        default:
            throw WalletError(.invalidKeystore, "kdf \(crypto["kdf"] ?? "missing") is neither scrypt nor pbkdf2")
        }
        address = (object["address"] as? String).flatMap { EthereumAddress(hex: $0) }
    }

    /// Decrypts with `password`; `.wrongPassword` when the MAC does not match.
    public func decrypt(password: String) throws(WalletError) -> WalletKey {
        let derived: [UInt8]
        do {
            switch kdf {
            case .scrypt(let salt, let n, let r, let p, let dkLen):
                derived = try KDF.Scrypt.deriveKey(
                    from: Array(password.utf8), salt: salt, outputByteCount: dkLen, rounds: n, blockSize: r,
                    parallelism: p
                ).withUnsafeBytes { Array($0) }
            case .pbkdf2(let salt, let iterations, let dkLen):
                derived = try KDF.Insecure.PBKDF2.deriveKey(
                    from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: dkLen,
                    unsafeUncheckedRounds: iterations
                ).withUnsafeBytes { Array($0) }
            }
        } catch {
            throw WalletError(.invalidKeystore, "key derivation failed: \(error)")
        }
        guard Keccak256.hash(derived[16..<32] + ciphertext) == mac else {
            throw WalletError(.wrongPassword, "wrong password for the keystore (its MAC does not match)")
        }
        let secret: [UInt8]
        do {
            secret = Array(
                try AES._CTR.decrypt(
                    ciphertext, using: SymmetricKey(data: derived[0..<16]), nonce: AES._CTR.Nonce(nonceBytes: iv)))
        } catch {
            throw WalletError(.invalidKeystore, "AES-128-CTR decryption failed: \(error)")
        }
        let key = try WalletKey(secret: secret)
        if let address, address != key.address {
            throw WalletError(
                .invalidKeystore, "the keystore says address \(address.hex) but its key is \(key.address.hex)")
        }
        return key
    }
}
