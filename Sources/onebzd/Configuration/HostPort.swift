import TOMLConfiguration

/// A listen or endpoint address as written by an operator: `127.0.0.1:5353`,
/// `[::1]:5353`, `localhost:8053`.
package struct HostPort: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` / `[v6]:port`; the error says what is wrong, the caller adds the key.
    package init(parsing text: String) throws(ConfigurationError) {
        let bad = { (why: String) in ConfigurationError(key: "", "\"\(text)\" \(why)") }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw bad("has no closing ]") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw bad("needs :PORT after the IPv6 address") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw bad("is not HOST:PORT") }
            host = text[..<colon]
            guard !host.contains(":") else { throw bad("is IPv6 without brackets; write [ADDR]:PORT") }
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw bad("has an empty host") }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw bad("has no valid port (0-65535)")
        }
        self.host = String(host)
        self.port = port
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
