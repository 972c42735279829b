import ArgumentParser
import DNSWire
import NIOCore

/// Flags of the DNS service. Validation errors name the flag.
struct DNSOptions: ParsableArguments {
    @Option(help: "Zone file (RFC 1035 master format) served at the apex.")
    var zone: String = "zones/1bz.zone"

    @Option(help: "Apex of the zone; $ORIGIN in the file must agree.")
    var origin: String = "1bz."

    @Option(
        help: ArgumentHelp(
            "Address to serve UDP and TCP on, HOST:PORT or [IPv6]:PORT. Repeat for several.",
            valueName: "host:port"))
    var listen: [String] = ["0.0.0.0:53"]

    @Option(help: "Answer for CH TXT id.server / hostname.bind.")
    var identity: String = "onebzd"

    @Option(help: "Answer for CH TXT version.bind / version.server.")
    var versionString: String = "onebzd"

    @Flag(help: "Refuse CH TXT id.server / version.bind queries instead of answering them.")
    var noChaos = false

    @Option(help: "Seconds a TCP connection may stay idle before the server closes it.")
    var tcpIdleTimeout: Int = 10

    @Option(help: "Most TCP connections open at once; further ones are closed immediately.")
    var tcpMaxConnections: Int = 1024

    @Option(help: "Event loop threads (default: one per core).")
    var threads: Int?

    func validate() throws {
        _ = try listenAddresses()
        _ = try originName()
        guard tcpIdleTimeout > 0 else { throw ValidationError("--tcp-idle-timeout must be positive") }
        guard tcpMaxConnections > 0 else { throw ValidationError("--tcp-max-connections must be positive") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
    }

    func originName() throws -> Name {
        do {
            return try Name(origin)
        } catch {
            throw ValidationError("--origin: '\(origin)' is not a domain name")
        }
    }

    func listenAddresses() throws -> [SocketAddress] {
        try listen.map { text in
            guard let (host, port) = Self.split(text), let address = try? SocketAddress(ipAddress: host, port: port)
            else { throw ValidationError("--listen: '\(text)' is not IPv4:PORT or [IPv6]:PORT") }
            return address
        }
    }

    /// "127.0.0.1:53" or "[::1]:53" into host and port.
    static func split(_ text: String) -> (String, Int)? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (String(host), port)
    }
}
