import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real onebzd with the HTTP gateway, on free loopback ports, serving the shipped
/// zone plus `local.1bz A 127.0.0.1` (so DoH-resolving clients stay on loopback).
final class GatewayProcess: Sendable {
    let dnsPort: Int
    let httpPort: Int
    let process: ManagedProcess
    let directory: URL
    let tls: Bool

    var baseURL: String { "\(tls ? "https" : "http")://127.0.0.1:\(httpPort)" }

    /// With `tls`, a self-signed certificate for 127.0.0.1 and local.1bz is made with
    /// openssl and the gateway speaks HTTPS (HTTP/2 + HTTP/1.1).
    /// `config`: a TOML document for `--config` (e.g. `[gateway]` limits), flags win over it.
    init(label: String, tls: Bool = false, config: String? = nil) async throws {
        self.tls = tls
        directory = try Repo.scratchDirectory(label)
        let shipped = try String(contentsOf: Repo.root.appendingPathComponent("zones/1bz.zone"), encoding: .utf8)
        let zone = directory.appendingPathComponent("1bz.zone")
        try (shipped + "\nlocal IN A 127.0.0.1\n").write(to: zone, atomically: true, encoding: .utf8)
        dnsPort = FreePort.next()
        var http = FreePort.next()
        while http == dnsPort { http = FreePort.next() }
        httpPort = http
        var tlsArguments: [String] = []
        if tls {
            let cert = directory.appendingPathComponent("cert.pem").path
            let key = directory.appendingPathComponent("key.pem").path
            let made = try Command.run(
                "openssl",
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:local.1bz",
                ])
            guard made.status == 0 else { throw TestProcessError("openssl failed: \(made.stderr)") }
            tlsArguments = ["--http-tls-cert", cert, "--http-tls-key", key]
        }
        var configArguments: [String] = []
        if let config {
            let file = directory.appendingPathComponent("onebzd.toml")
            try config.write(to: file, atomically: true, encoding: .utf8)
            configArguments = ["--config", file.path]
        }
        process = try ManagedProcess(
            name: "onebzd", executable: Repo.product("onebzd"),
            arguments: [
                "--zone", zone.path, "--listen", "127.0.0.1:\(dnsPort)", "--http", "127.0.0.1:\(httpPort)",
                "--threads", "1",
            ] + tlsArguments + configArguments,
            logDirectory: directory, currentDirectory: Repo.root)
        try await process.waitForTCP(port: httpPort)
        try await process.waitForTCP(port: dnsPort)
    }

    deinit { process.stop() }

    /// One UDP exchange with the DNS port: the raw answer bytes.
    func udp(_ query: [UInt8]) throws -> [UInt8] {
        guard let answer = try RawDNSClient(port: dnsPort).udp(query, timeout: 3) else {
            throw TestProcessError("no UDP answer from onebzd")
        }
        return answer
    }

    /// curl with the given arguments; returns (headers, body bytes).
    func curl(_ path: String, _ arguments: [String] = []) throws -> (status: Int, headers: [String: String], body: Data) {
        let headerFile = directory.appendingPathComponent("headers-\(UUID().uuidString)")
        let bodyFile = directory.appendingPathComponent("body-\(UUID().uuidString)")
        let result = try Command.run(
            "curl", ["-sS", "-k", "--max-time", "10", "-D", headerFile.path, "-o", bodyFile.path] + arguments + [baseURL + path])
        guard result.status == 0 else { throw TestProcessError("curl \(path) failed: \(result.stderr)") }
        let headerText = try String(contentsOf: headerFile, encoding: .utf8)
        var headers: [String: String] = [:]
        var status = 0
        for line in headerText.split(separator: "\r\n") {
            if line.hasPrefix("HTTP/") {
                status = Int(line.split(separator: " ")[1]) ?? 0
            } else if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return (status, headers, (try? Data(contentsOf: bodyFile)) ?? Data())
    }
}
