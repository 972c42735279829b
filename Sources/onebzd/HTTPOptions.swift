import ArgumentParser
import OneBZResolver

/// Flags of the HTTP gateway (DoH, `/resolve`, the page, `/metrics`).
struct HTTPOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Serve the HTTP gateway on HOST:PORT (overrides server.http in the config). Plain HTTP: terminate TLS at a proxy.",
            valueName: "host:port"))
    var http: String?

    func validate() throws {
        _ = try address(configured: nil)
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
