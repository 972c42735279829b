import Foundation
import NodeRegistry
import TOMLConfiguration
import Testing

@testable import onebzd

/// `[registry] ca_file` / `pin_sha256`: parsed, and errors name the key.
@Suite("Registry TLS configuration")
struct RegistryTLSConfigurationTests {
    /// SHA-256 of nothing, a well-formed pin.
    static let pin = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

    @Test(arguments: [pin, "sha256//" + pin, " \(pin) "])
    func pinParses(text: String) throws {
        let parsed = try SPKIPin(base64: text)
        #expect(parsed.sha256.count == 32)
        #expect(parsed.description == "sha256//" + Self.pin)
        #expect(parsed == SPKIPin(spki: []))
    }

    @Test(arguments: ["", "not base64!", "AAAA", String(pin.dropLast(4)), "sha1//" + pin])
    func badPinIsRefused(text: String) {
        #expect(throws: RegistryTLSError.self) { try SPKIPin(base64: text) }
    }

    @Test func keysParse() throws {
        let config = try ServerConfiguration(
            toml: """
                [registry]
                url = "https://registry.example:8443"
                ca_file = "/etc/onebz/registry-ca.pem"
                pin_sha256 = "\(Self.pin)"
                """)
        #expect(config.registry?.caFile == "/etc/onebz/registry-ca.pem")
        #expect(config.registry?.pin == SPKIPin(spki: []))
        #expect(config.registry?.transportWarning == nil)
    }

    @Test func unreadableCAFileIsNamed() throws {
        var registry = ServerConfiguration.Registry(url: "https://r.example")
        registry.caFile = "/nonexistent/ca.pem"
        #expect {
            _ = try registry.tls()
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.key == "registry.ca_file" && error.problem.contains("/nonexistent/ca.pem")
        }
        registry.caFile = nil
        #expect(try registry.tls() == nil)
    }

    @Test func notACertificateIsNamed() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-cert-\(getpid()).pem")
        try "hello\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        var registry = ServerConfiguration.Registry(url: "https://r.example")
        registry.caFile = file.path
        #expect(throws: ConfigurationError.self) { try registry.tls() }
    }

    @Test(arguments: [
        ("http://10.0.0.5:8080", true), ("http://registry.example", true), ("http://127.0.0.1.nip.io:80", true),
        ("http://127.0.0.1:8080", false), ("http://localhost:8080/", false), ("http://[::1]:8080", false),
        ("https://registry.example", false),
    ])
    func plainHTTPBeyondThisHostWarns(url: String, warns: Bool) {
        let warning = ServerConfiguration.Registry(url: url).transportWarning
        #expect((warning != nil) == warns)
        #expect(warning?.contains("trust= and record freshness can be changed in transit") ?? true)
    }
}
