import ArgumentParser
import Crypto
import Foundation
import NodeRegistry
import X509

/// `onebz cert`: a self-signed certificate whose key is the node's Ed25519 identity key,
/// for any web server to present (docs/operator.md#serving-a-web-site). Browsers reach
/// it through a gateway that checks it against the TLSA record DNS publishes for the
/// node (DANE-EE, RFC 7671 5.1: only the key is matched, so the issuer, names and dates
/// need no CA).
struct CertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract:
            "Write a self-signed X.509 certificate for the node's key (cert.pem) and the key for a web server (key.pem)."
    )

    @OptionGroup var key: KeyOption

    @Option(help: "The node's 1bz name, e.g. shashi.1bz (the certificate's subject and first DNS name).")
    var name: String

    @Option(help: "Directory to write cert.pem and key.pem into (created if missing).")
    var out: String

    @Option(help: "Days the certificate is valid (DANE-EE ignores dates; some servers and clients do not).")
    var days: Int = 3650

    func run() throws {
        let node = try key.load()
        let dnsName = try Self.nodeName(name)
        guard (1...36500).contains(days) else { throw CLIError("--days must be 1-36500") }
        let pem = try Self.certificatePEM(for: node, name: dnsName, days: days, now: Date())
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let certPath = directory.appendingPathComponent("cert.pem").path
            let keyPath = directory.appendingPathComponent("key.pem").path
            try Data(pem.utf8).write(to: URL(fileURLWithPath: certPath))
            // The unencrypted key, as web servers read it: owner-only from the start.
            guard FileManager.default.createFile(atPath: keyPath, contents: nil, attributes: [.posixPermissions: 0o600])
            else { throw CLIError("cannot create \(keyPath)") }
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyPath)
            try Data(node.pem.utf8).write(to: URL(fileURLWithPath: keyPath))
            print("certificate: \(certPath)")
            print("key:         \(keyPath) (unencrypted, mode 0600)")
        } catch let error as CLIError { throw error } catch {
            throw CLIError("cannot write to \(out): \(error.localizedDescription)")
        }
        let digest = node.publicKey.spkiSHA256.map { String(format: "%02x", $0) }.joined()
        print("TLSA:        3 1 1 \(digest)")
        print("publish it:  onebz publish --https-port 443 ... (docs/operator.md)")
    }

    /// A 1bz name, lowercase, without the trailing dot.
    static func nodeName(_ text: String) throws -> String {
        var name = text.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        guard name.hasSuffix(".1bz"), name.count > 4, name.count <= 253,
            name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ label in
                (1...63).contains(label.count) && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
                    && label.allSatisfy(\.isASCII)
            })
        else { throw CLIError("--name must be a 1bz name such as shashi.1bz, not \(text.debugDescription)") }
        return name
    }

    /// The certificate (PEM): subject and issuer CN=name, SAN the name and the node-id
    /// name, end-entity, serverAuth, signed by the key it certifies.
    static func certificatePEM(for node: Ed25519PrivateKey, name: String, days: Int, now: Date) throws -> String {
        do {
            let signing = try Curve25519.Signing.PrivateKey(rawRepresentation: node.seed)
            let privateKey = Certificate.PrivateKey(signing)
            let subject = try DistinguishedName { CommonName(name) }
            var names = [GeneralName.dnsName(name)]
            let idName = node.publicKey.nodeID.dnsName
            if idName != name { names.append(.dnsName(idName)) }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: privateKey.publicKey,
                notValidBefore: now.addingTimeInterval(-3600),
                notValidAfter: now.addingTimeInterval(Double(days) * 86400),
                issuer: subject, subject: subject, signatureAlgorithm: .ed25519, extensions: extensions,
                issuerPrivateKey: privateKey)
            return try certificate.serializeAsPEM().pemString + "\n"
        } catch {
            throw CLIError("cannot make the certificate: \(error)")
        }
    }
}
