import Foundation

/// A self-signed P-256 certificate for 127.0.0.1 made with openssl, and the pin of its
/// key as `curl --pinnedpubkey sha256//` wants it (computed by openssl too, so that a
/// test checks our SPKI hash against another implementation's).
public struct TestCertificate: Sendable {
    public let certificatePath: String
    public let keyPath: String
    /// Base64 SHA-256 of the DER SubjectPublicKeyInfo.
    public let pinSHA256: String

    /// With `hostname`, the certificate also names it (CN and a DNS subjectAltName), for
    /// clients that check a name (DoT: kdig +tls-hostname, unbound, NSD's tls-auth).
    public static func selfSigned(in directory: URL, name: String, hostname: String? = nil) throws -> TestCertificate {
        let cert = directory.appendingPathComponent("\(name).crt").path
        let key = directory.appendingPathComponent("\(name).key").path
        let made = try Command.run(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=\(hostname ?? "127.0.0.1")", "-addext",
                "subjectAltName=\(hostname.map { "DNS:\($0)," } ?? "")IP:127.0.0.1", "-keyout", key, "-out", cert,
            ])
        guard made.status == 0 else { throw TestProcessError("openssl req failed: \(made.stderr)") }
        let pin = try Command.run(
            "sh",
            [
                "-c",
                "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform der "
                    + "| openssl dgst -sha256 -binary | base64", "pin", cert,
            ])
        let text = pin.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard pin.status == 0, text.count == 44 else { throw TestProcessError("pin of \(cert) failed: \(pin.stderr)") }
        return TestCertificate(certificatePath: cert, keyPath: key, pinSHA256: text)
    }

    /// `onebz-registry` flags serving HTTPS with this certificate.
    public var registryArguments: [String] { ["--tls-cert", certificatePath, "--tls-key", keyPath] }
}
