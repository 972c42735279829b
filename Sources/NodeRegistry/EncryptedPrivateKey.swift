import Crypto
import _CryptoExtras

/// PKCS#8 EncryptedPrivateKeyInfo (RFC 5958 3, RFC 8018 PBES2) as `cryptography`'s
/// BestAvailableEncryption writes it, and so as the seed's identity.py stores a node key:
/// PBKDF2-HMAC-SHA256 (16-byte salt, 2048 rounds) and AES-256-CBC. Reading also takes
/// other round counts and AES-128/192-CBC (what `openssl pkcs8 -topk8 -v2 aes…` writes).
public enum EncryptedPrivateKey {
    static let pbes2: [UInt8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d]
    static let pbkdf2: [UInt8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c]
    static let hmacSHA256: [UInt8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09]
    static let aesCBC: [[UInt8]: Int] = [  // 2.16.840.1.101.3.4.1.{2,22,42} -> key bytes
        [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02]: 16,
        [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x16]: 24,
        [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a]: 32,
    ]
    public static let rounds = 2048

    /// "-----BEGIN ENCRYPTED PRIVATE KEY-----" PEM of `key` under `password`.
    public static func pem(_ key: Ed25519PrivateKey, password: String) throws -> String {
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let iv = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let derived = try derive(password: password, salt: salt, rounds: rounds, length: 32)
        let plain = Ed25519PrivateKey.pkcs8Prefix + key.seed
        let encrypted = Array(try AES._CBC.encrypt(plain, using: derived, iv: AES._CBC.IV(ivBytes: iv)))
        let prf = DER.sequence(DER.oid(hmacSHA256) + [0x05, 0x00])
        let kdfParams = DER.sequence(DER.octets(salt) + DER.integer(rounds) + prf)
        let kdf = DER.sequence(DER.oid(pbkdf2) + kdfParams)
        let cipher = DER.sequence(DER.oid(aesCBC.first { $0.value == 32 }!.key) + DER.octets(iv))
        let algorithm = DER.sequence(DER.oid(pbes2) + DER.sequence(kdf + cipher))
        return PEM.encode(DER.sequence(algorithm + DER.octets(encrypted)), label: "ENCRYPTED PRIVATE KEY")
    }

    /// Decrypts an ENCRYPTED PRIVATE KEY PEM; `.wrongPassword` when the padding or the
    /// inner key does not check out (CBC has no MAC: that is the only signal).
    public static func decrypt(pem: String, password: String) throws(KeyError) -> Ed25519PrivateKey {
        guard let der = PEM.decode(pem, label: "ENCRYPTED PRIVATE KEY") else { throw .notPKCS8PEM }
        var reader = DER.Reader(der)
        guard var outer = reader.sequence(), var algorithm = outer.sequence(), algorithm.oid() == pbes2,
            var params = algorithm.sequence(), var kdf = params.sequence(), kdf.oid() == pbkdf2,
            var kdfParams = kdf.sequence(), let salt = kdfParams.octets(), let iterations = kdfParams.integer(),
            var cipher = params.sequence(), let cipherOID = cipher.oid(), let keyLength = aesCBC[cipherOID],
            let iv = cipher.octets(), iv.count == 16, let encrypted = outer.octets()
        else { throw .unsupportedEncryption }
        _ = kdfParams.integer()  // the optional keyLength; the cipher fixes it anyway
        // No prf means hmacWithSHA1 (RFC 8018 A.2), which nothing we support writes.
        guard var prf = kdfParams.sequence(), prf.oid() == hmacSHA256 else { throw .unsupportedEncryption }
        let plain: [UInt8]
        do {
            let derived = try derive(password: password, salt: salt, rounds: iterations, length: keyLength)
            plain = Array(try AES._CBC.decrypt(encrypted, using: derived, iv: AES._CBC.IV(ivBytes: iv)))
        } catch { throw .wrongPassword }
        do {
            return try Ed25519PrivateKey(pem: PEM.encode(plain, label: "PRIVATE KEY"))
        } catch { throw .wrongPassword }
    }

    private static func derive(password: String, salt: [UInt8], rounds: Int, length: Int) throws -> SymmetricKey {
        try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: length,
            unsafeUncheckedRounds: rounds)
    }
}

/// The little DER this file needs (RFC 8018 structures): definite lengths only.
enum DER {
    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var length: [UInt8]
        if content.count < 0x80 {
            length = [UInt8(content.count)]
        } else {
            let bytes = UInt256Bytes.minimal(UInt64(content.count))
            length = [0x80 | UInt8(bytes.count)] + bytes
        }
        return [tag] + length + content
    }
    static func sequence(_ content: [UInt8]) -> [UInt8] { tlv(0x30, content) }
    static func octets(_ content: [UInt8]) -> [UInt8] { tlv(0x04, content) }
    static func oid(_ content: [UInt8]) -> [UInt8] { tlv(0x06, content) }
    static func integer(_ value: Int) -> [UInt8] {
        var bytes = UInt256Bytes.minimal(UInt64(value))
        if bytes.isEmpty || bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return tlv(0x02, bytes)
    }

    struct Reader {
        private var bytes: ArraySlice<UInt8>
        init(_ bytes: some Collection<UInt8>) { self.bytes = ArraySlice(bytes) }

        private mutating func read(_ tag: UInt8) -> ArraySlice<UInt8>? {
            guard bytes.count >= 2, bytes.first == tag else { return nil }
            var index = bytes.startIndex + 1
            var length = Int(bytes[index])
            index += 1
            if length & 0x80 != 0 {
                let count = length & 0x7f
                guard count > 0, count <= 3, bytes.endIndex - index >= count else { return nil }
                length = bytes[index..<index + count].reduce(0) { $0 << 8 | Int($1) }
                index += count
            }
            guard bytes.endIndex - index >= length else { return nil }
            let content = bytes[index..<index + length]
            bytes = bytes[(index + length)...]
            return content
        }

        mutating func sequence() -> Reader? { read(0x30).map { Reader($0) } }
        mutating func oid() -> [UInt8]? { read(0x06).map(Array.init) }
        mutating func octets() -> [UInt8]? { read(0x04).map(Array.init) }
        mutating func integer() -> Int? {
            guard let content = read(0x02), !content.isEmpty, content.count <= 4, content.first! & 0x80 == 0 else {
                return nil
            }
            return content.reduce(0) { $0 << 8 | Int($1) }
        }
    }
}

enum UInt256Bytes {
    static func minimal(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var v = value
        while v > 0 {
            out.insert(UInt8(v & 0xff), at: 0)
            v >>= 8
        }
        return out
    }
}
