import NodeRegistry
import TestSupport
import Testing

/// `onebz init`'s encrypted key and the name rules `onebz register` checks.
@Suite struct IdentityFileTests {
    @Test func encryptedKeyRoundTripsAndReadsIdentityPy() throws {
        let key = Ed25519PrivateKey(seed: (0..<32).map { UInt8($0) })
        let pem = try EncryptedPrivateKey.pem(key, password: "pw")
        #expect(pem.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"))
        #expect(try EncryptedPrivateKey.decrypt(pem: pem, password: "pw").publicKey == key.publicKey)
        #expect(throws: KeyError.wrongPassword) { try EncryptedPrivateKey.decrypt(pem: pem, password: "nope") }
        // written by Python's cryptography (BestAvailableEncryption(b"secret")), as identity.py does
        let python = try EncryptedPrivateKey.decrypt(pem: Vectors.shared.encrypted_private_pem, password: "secret")
        #expect(python.publicKey.nodeID.hex.count == 64)
    }

    @Test(arguments: ["shashi.1bz", "shashi.1bz.", "a-b.1bz", "xn--bcher-kva.1bz", "x1.1bz"])
    func goodNames(name: String) {
        #expect((try? RegistryName.validate(name).get()) == (name.hasSuffix(".") ? String(name.dropLast()) : name))
    }

    @Test(arguments: [
        "Shashi.1bz", "shashi.com", "a.b.1bz", "-x.1bz", "x-.1bz", "under_score.1bz", ".1bz", "id.1bz",
        String(repeating: "a", count: 64) + ".1bz", "ab--c.1bz", "shashi",
    ])
    func badNames(name: String) {
        #expect((try? RegistryName.validate(name).get()) == nil)
    }
}
