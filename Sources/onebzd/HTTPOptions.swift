import ArgumentParser
import DNSEngine
import HTTPGateway
import HTTPServerGuard

/// Flags of the HTTP gateway (DoH, `/resolve`, the page, `/metrics`).
struct HTTPOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Serve the HTTP gateway on HOST:PORT (overrides server.http in the config). Plain HTTP unless --http-tls-cert/--http-tls-key.",
            valueName: "host:port"))
    var http: String?

    @Option(help: ArgumentHelp("PEM certificate chain: serve the gateway over HTTPS (HTTP/2 + HTTP/1.1).", valueName: "file"))
    var httpTlsCert: String?

    @Option(help: ArgumentHelp("PEM private key of --http-tls-cert.", valueName: "file"))
    var httpTlsKey: String?

    func validate() throws {
        _ = try address(configured: nil)
        if (httpTlsCert == nil) != (httpTlsKey == nil) {
            throw ValidationError("--http-tls-cert and --http-tls-key go together")
        }
    }

    /// HTTPS files when both flags are given.
    var tls: TLSFiles? {
        guard let httpTlsCert, let httpTlsKey else { return nil }
        return TLSFiles(certificateChain: httpTlsCert, privateKey: httpTlsKey)
    }

    /// The gateway address: the flag wins over the config file's `server.http`; nil: no gateway.
    func address(configured: HostPort?) throws -> HostPort? {
        guard let http else { return configured }
        do {
            return try HostPort(parsing: http)
        } catch {
            throw ValidationError("--http: \(error.problem)")
        }
    }
}
