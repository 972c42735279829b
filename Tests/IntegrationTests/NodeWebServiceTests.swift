import Foundation
import NodeRegistry
import TestSupport
import Testing

/// The node's side of web service records (docs/operator.md#serving-a-web-site): `onebz
/// cert` makes a certificate for the node's key, a real TLS server (openssl s_server)
/// presents it on loopback, `onebz publish --https-port` declares it, and the TLSA
/// record onebzd then publishes matches what the server presents: compared by hand
/// (openssl) and by ldns-dane. The HTTPS record as dig and kdig print it.
@Suite(.serialized, .timeLimit(.minutes(4))) struct NodeWebServiceTests {
    static let onebz = Repo.product("onebz").path

    /// SHA-256 of the SubjectPublicKeyInfo of the certificate a TLS server presents.
    static func servedSPKIHash(port: Int) throws -> String {
        let r = try Command.run(
            "bash",
            [
                "-c",
                "openssl s_client -connect 127.0.0.1:\(port) -servername shashi.1bz </dev/null 2>/dev/null"
                    + " | openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r",
            ])
        return String(r.stdout.prefix(64))
    }

    static func startTLSServer(cert: String, key: String, port: Int, in directory: URL, name: String) async throws
        -> ManagedProcess
    {
        let server = try ManagedProcess(
            name: name, executable: URL(fileURLWithPath: "/usr/bin/openssl"),
            arguments: ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", cert, "-key", key, "-www", "-quiet"],
            logDirectory: directory)
        try await server.waitForTCP(port: port)
        return server
    }

    @Test func theServedCertificateMatchesThePublishedTLSA() async throws {
        let stack = try await DynamicStack(label: "node-web")
        let sample = try #require(stack.devnet.sample("shashi.1bz"))
        let site = stack.directory.appendingPathComponent("site")

        let made = try Command.run(
            Self.onebz, ["cert", "--key", sample.privateKeyPath, "--name", "shashi.1bz", "--out", site.path])
        try #require(made.status == 0, "onebz cert: \(made.stderr)")
        let wrongName = try Command.run(
            Self.onebz, ["cert", "--key", sample.privateKeyPath, "--name", "example.com", "--out", site.path])
        #expect(wrongName.status != 0 && wrongName.stderr.contains("1bz name"), "\(wrongName.stderr)")
        let badPort = try Command.run(
            Self.onebz, ["sign", "--key", sample.privateKeyPath, "--https-port", "0", "--seq", "1"])
        #expect(badPort.status != 0 && badPort.stderr.contains("port 0 is not in 1-65535"), "\(badPort.stderr)")
        let certPath = site.appendingPathComponent("cert.pem").path
        let keyPath = site.appendingPathComponent("key.pem").path
        let mode = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // The certificate: self-signed, the node's key, its names.
        let text = try Command.run("openssl", ["x509", "-in", certPath, "-noout", "-text"]).stdout
        #expect(text.contains("ED25519") && text.contains("DNS:shashi.1bz") && text.contains(".id.1bz"), "\(text)")
        let key = try Ed25519PrivateKey(pem: String(contentsOfFile: sample.privateKeyPath, encoding: .utf8))
        let expected = key.publicKey.spkiSHA256.map { String(format: "%02x", $0) }.joined()
        #expect(made.stdout.contains("3 1 1 \(expected)"), "\(made.stdout)")

        let port = FreePort.next()
        let server = try await Self.startTLSServer(
            cert: certPath, key: keyPath, port: port, in: stack.directory, name: "s_server")
        defer { server.stop() }
        #expect(try Self.servedSPKIHash(port: port) == expected)

        let published = try Command.run(
            Self.onebz,
            [
                "publish", "--registry", stack.registryBaseURL, "--key", sample.privateKeyPath, "--ipv4", "127.0.0.1",
                "--ipv6", "::1", "--https-port", "\(port)", "--seq", "2",
            ])
        try #require(published.status == 0, "onebz publish: \(published.stderr)")
        #expect(published.stdout.contains("\"services\""), "\(published.stdout)")

        let owner = "_\(port)._tcp.shashi.1bz"
        let waited = try await stack.eventually(timeout: .seconds(15)) {
            !(try stack.dig([owner, "TLSA"]).answer.isEmpty)
        }
        print("NodeWebServiceTests: TLSA answered \(waited) after publish")
        let tlsa = try stack.dig([owner, "TLSA"])
        #expect(tlsa.status == "NOERROR" && tlsa.flags.contains("aa"))
        let fields = try #require(tlsa.answer.first).split(separator: " ").dropFirst(4).map(String.init)
        #expect(fields.prefix(3) == ["3", "1", "1"], "\(tlsa.answer)")
        #expect(fields.dropFirst(3).joined().lowercased() == expected, "\(tlsa.answer)")

        // HTTPS, as dig and kdig print it (RFC 9460 presentation).
        let https = try stack.dig(["shashi.1bz", "HTTPS"]).answer
        #expect(
            https.count == 1
                && https[0].hasSuffix("HTTPS 1 . alpn=\"h2,http/1.1\" port=\(port) ipv4hint=127.0.0.1 ipv6hint=::1"),
            "\(https)")
        let kdig = try stack.onebzd.kdig(["shashi.1bz", "HTTPS"]).answer
        #expect(
            kdig.count == 1
                && kdig[0].hasSuffix("HTTPS 1 . alpn=h2,http/1.1 port=\(port) ipv4hint=127.0.0.1 ipv6hint=::1"),
            "\(kdig)")
        let kdigTLSA = try stack.onebzd.kdig([owner, "TLSA"]).answer
        #expect(kdigTLSA.count == 1 && kdigTLSA[0].hasSuffix("TLSA 3 1 1 \(expected.uppercased())"), "\(kdigTLSA)")

        // ldns-dane: the TLSA as onebzd served it (a file: ldns-dane would ask the system
        // resolver), the TLS server on loopback.
        let tlsaFile = stack.directory.appendingPathComponent("tlsa.txt")
        try (tlsa.answer.joined(separator: "\n") + "\n").write(to: tlsaFile, atomically: true, encoding: .utf8)
        let dane = try Command.run(
            "ldns-dane", ["-n", "-d", "-a", "127.0.0.1", "-t", tlsaFile.path, "verify", "shashi.1bz", "\(port)"])
        #expect(
            dane.status == 0 && dane.stdout.contains("dane-validated successfully"), "\(dane.stdout) \(dane.stderr)")

        // Another key's certificate on the same port: ldns-dane refuses it.
        let otherDirectory = stack.directory.appendingPathComponent("other")
        let otherKey = stack.directory.appendingPathComponent("other-key.pem")
        try Ed25519PrivateKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) }).pem
            .write(to: otherKey, atomically: true, encoding: .utf8)
        let other = try Command.run(
            Self.onebz, ["cert", "--key", otherKey.path, "--name", "shashi.1bz", "--out", otherDirectory.path])
        try #require(other.status == 0, "\(other.stderr)")
        _ = server.stop()
        let impostor = try await Self.startTLSServer(
            cert: otherDirectory.appendingPathComponent("cert.pem").path,
            key: otherDirectory.appendingPathComponent("key.pem").path, port: port, in: stack.directory,
            name: "impostor")
        defer { impostor.stop() }
        let refused = try Command.run(
            "ldns-dane", ["-n", "-d", "-a", "127.0.0.1", "-t", tlsaFile.path, "verify", "shashi.1bz", "\(port)"])
        #expect(refused.status != 0, "\(refused.stdout) \(refused.stderr)")
    }
}
