import ChainReader
import ChainWallet
import Foundation
import Testing

/// Signatures checked against independent implementations: the EIP-155 example from the
/// EIP itself, and an EIP-1559 transaction and keystores made by eth-account (Python).
@Suite struct SigningTests {
    static let key46 = try! WalletKey(secret: [UInt8](repeating: 0x46, count: 32))
    static let to35 = EthereumAddress(unchecked: [UInt8](repeating: 0x35, count: 20))

    @Test func addressOfAKnownKey() throws {
        // eth-tester's first default account has the private key 1.
        let one = try WalletKey(secret: [UInt8](repeating: 0, count: 31) + [1])
        #expect(one.address.checksummed == "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")
        #expect(Self.key46.address.checksummed == "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F")
    }

    @Test func eip155ExampleFromTheEIP() {
        let tx = EthereumTransaction(
            chainID: 1, nonce: 9, fees: .legacy(gasPrice: UInt256(20_000_000_000)), gasLimit: 21000, to: Self.to35,
            value: Wei.perEther, data: [])
        #expect(
            Hex.encode(tx.signingPayload, prefix: false)
                == "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080")
        let signed = tx.signed(by: Self.key46)
        #expect(
            Hex.encode(signed.raw, prefix: false)
                == "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
        )
    }

    @Test func eip1559MatchesEthAccount() {
        let tx = EthereumTransaction(
            chainID: 137, nonce: 7,
            fees: .eip1559(maxFeePerGas: UInt256(60_000_000_000), maxPriorityFeePerGas: UInt256(30_000_000_000)),
            gasLimit: 150_000, to: Self.to35, value: Wei.perEther, data: [0x12, 0x34])
        let signed = tx.signed(by: Self.key46)
        #expect(
            Hex.encode(signed.raw, prefix: false)
                == "02f8788189078506fc23ac00850df8475800830249f0943535353535353535353535353535353535353535880de0b6b3a7640000821234c001a0f7e4a63a896f1a498c0b9c6db5ef0eb7db0ac39197c978cf4420e77539fc9f2ca07d1224e2ccdf3dbea7e85fbf6e86501af565025c5205d08128689b4de3016fd9"
        )
        #expect(signed.hash.hex == "0x96b1f3652382284f7e5c8a2035e0b1d29a065431d7efd31fafa80e0c852bd336")
        #expect(WalletKey.recoverAddress(digest: tx.signingHash, signature: signed.signature) == Self.key46.address)
    }

    static let pbkdf2Keystore = """
        {"address": "9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F", "crypto": {"cipher": "aes-128-ctr", "cipherparams": {"iv": "383d84d3c06200e2445f163c3e3ba421"}, "ciphertext": "fa7fc4633df5ffdfd3849d45cbcdd1afbc32776c86d092a544415e23a867a5b7", "kdf": "pbkdf2", "kdfparams": {"c": 1000, "dklen": 32, "prf": "hmac-sha256", "salt": "953c5bf6b3235dc68768a0c0b18accfa"}, "mac": "cc6ff2eca0e66c9165177b727962ae450cb2a3f32d5a69bf0cd75111e9007e20"}, "id": "d2a463c4-0123-4598-8645-26685bd494ad", "version": 3}
        """
    /// eth-account 0.14's keystore of the same key with scrypt n = 1024. Its default
    /// (n = 262,144, 256 MiB) took 19 s in the debug build, where BoringSSL's C is not
    /// optimised; the work factor is a parameter of the same code path.
    static let scryptKeystore = """
        {"address": "9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F", "crypto": {"cipher": "aes-128-ctr", "cipherparams": {"iv": "bfa328491b921d92452918c22218f790"}, "ciphertext": "49b6ec4f242c752e3a52865ad31103e306d7be9f6f65bb47ac5147daa4a05a92", "kdf": "scrypt", "kdfparams": {"dklen": 32, "n": 1024, "r": 8, "p": 1, "salt": "8871d20e54a5e8e3e1480cc65534f508"}, "mac": "47df3e968e07b44a83e7546208e340bc08054cc519532aadab08673ec245f52e"}, "id": "10319a65-4c1a-4d16-8a08-f623064c3675", "version": 3}
        """

    @Test(arguments: [pbkdf2Keystore, scryptKeystore])
    func keystoreDecryptsAndRejectsAWrongPassword(json: String) throws {
        let file = try WalletKeyFile(contents: Data(json.utf8), path: "ks.json")
        #expect(file.needsPassword)
        let key = try file.key { "correct horse" }
        #expect(key.address == Self.key46.address)
        #expect {
            _ = try file.key { "battery staple" }
        } throws: { ($0 as? WalletError)?.kind == .wrongPassword }
    }

    @Test func rawKeyFiles() throws {
        let file = try WalletKeyFile(contents: Data(("0x" + String(repeating: "46", count: 32) + "\n").utf8), path: "k")
        #expect(
            try file.key {
                Issue.record("no password for a raw key")
                return ""
            }.address == Self.key46.address)
        #expect(throws: WalletError.self) { try WalletKeyFile(contents: Data("hello".utf8), path: "k") }
        #expect(throws: WalletError.self) {
            try WalletKeyFile(contents: Data(String(repeating: "0", count: 64).utf8), path: "k")
        }
    }

    @Test(arguments: [
        ("5", "5000000000000000000"), ("0.25", "250000000000000000"), ("10ether", "10000000000000000000"),
        ("30 gwei", "30000000000"), ("1000wei", "1000"), ("1.5gwei", "1500000000"),
    ])
    func amounts(text: String, wei: String) {
        #expect(Wei.parse(text)?.description == wei)
    }

    @Test(arguments: ["", "abc", "1.2.3", "0.0000000000000000001", "1.5wei", "-1", "ether"])
    func badAmounts(text: String) {
        #expect(Wei.parse(text) == nil)
    }

    @Test func revertReasonDecodes() {
        let data = Hex.decode(
            "0x08c379a000000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000012416c726561647920726567697374657265640000000000000000000000000000"
        )!
        #expect(RevertReason.decode(data) == "Already registered")
        #expect(Wei.format(UInt256(decimal: "10500000000000000000")!) == "10.5 ether")
    }
}
