import ArgumentParser
import Foundation
import NodeRegistry
import SecretFile

/// `onebz init --out DIR`: a new node identity exactly as the seed's identity.py makes one.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a node identity: node_private.pem, node_public.pem, node_id.txt (as identity.py).",
        discussion: """
            The private key is PKCS#8 PEM, encrypted with a password (PBES2: PBKDF2-HMAC-SHA256 + \
            AES-256-CBC, what identity.py's BestAvailableEncryption writes) unless --no-password. \
            node_id = SHA-256 of node_public.pem's bytes. Existing files are never overwritten.
            """)

    @Option(help: "Directory for the identity files (created if missing).")
    var out: String

    @Flag(name: .customLong("no-password"), help: "Write the private key unencrypted (mode 0600).")
    var noPassword = false

    @Option(
        name: .customLong("password-file"),
        help: "Read the new key password from FILE (else ONEBZ_KEY_PASSWORD, else asked twice).")
    var passwordFile: String?

    func run() throws {
        let fm = FileManager.default
        let dir = URL(fileURLWithPath: out)
        let files = ["node_private.pem", "node_public.pem", "node_id.txt"].map { dir.appendingPathComponent($0) }
        if let existing = files.first(where: { fm.fileExists(atPath: $0.path) }) {
            throw CLIError("\(existing.path) exists: an identity is never overwritten (pick another --out)")
        }
        let password =
            noPassword
            ? nil
            : try Secrets.newPassword(env: "ONEBZ_KEY_PASSWORD", file: passwordFile, fileFlag: "--password-file")
        var generator = SystemRandomNumberGenerator()  // getrandom(2)
        let key = Ed25519PrivateKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let privatePEM: String
        if let password {
            guard !password.isEmpty else { throw CLIError("an empty password protects nothing: use --no-password") }
            privatePEM = try EncryptedPrivateKey.pem(key, password: password)
        } else {
            privatePEM = key.pem
        }
        let publicPEM = key.publicKey.pem
        let id = NodeID(publicKeyPEM: Array(publicPEM.utf8))
        do {
            try SecretFile.createPrivateDirectory(dir.path)
            try SecretFile.write(files[0].path, text: privatePEM)
        } catch { throw CLIError("cannot write the private key: \(error)") }
        guard
            fm.createFile(atPath: files[1].path, contents: Data(publicPEM.utf8)),
            fm.createFile(atPath: files[2].path, contents: Data(id.hex.utf8))
        else { throw CLIError("cannot write the identity files in \(dir.path)") }
        print("node_id:  \(id.hex)")
        print("nodeHash: \(id.nodeHash.hex)")
        print("dns:      \(id.dnsName)")
        print("pk:       ed25519:\(key.publicKey.base64)")
        print("files:    \(files.map(\.path).joined(separator: ", "))")
        note(
            password == nil
                ? "the private key is NOT encrypted: keep \(files[0].path) private"
                : "the private key is encrypted; commands that sign ask for its password (or read ONEBZ_KEY_PASSWORD)")
        note("next: onebz register NAME.1bz --key \(files[0].path) --rpc URL --contract ADDR --wallet-key FILE")
    }
}
