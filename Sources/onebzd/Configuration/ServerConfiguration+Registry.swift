import NodeRegistry
import TOMLConfiguration

extension ServerConfiguration {
    /// `ca_file` and `pin_sha256`: only with an `https://` URL (over plain HTTP they would
    /// check nothing); the pin is parsed here, the CA file read by `Registry.tls()`.
    static func registryTLS(_ t: TableReader, into registry: inout Registry) throws(ConfigurationError) {
        registry.caFile = try t.string("ca_file")
        if let text = try t.string("pin_sha256") {
            do { registry.pin = try SPKIPin(base64: text) } catch {
                throw ConfigurationError(key: t.key("pin_sha256"), error.problem)
            }
        }
        if registry.caFile != nil || registry.pin != nil, !registry.url.lowercased().hasPrefix("https://") {
            let key = registry.caFile != nil ? "ca_file" : "pin_sha256"
            throw ConfigurationError(key: t.key(key), "needs an https:// registry.url, not \"\(registry.url)\"")
        }
    }
}

extension ServerConfiguration.Registry {
    /// The TLS settings, with the CA file read: nil when neither key is set. An unreadable
    /// file is an error naming `registry.ca_file`.
    func tls() throws(ConfigurationError) -> RegistryTLS? {
        guard caFile != nil || pin != nil else { return nil }
        do { return try RegistryTLS(caFile: caFile, pin: pin) } catch {
            throw ConfigurationError(key: error.setting == .pin ? "registry.pin_sha256" : "registry.ca_file", error.problem)
        }
    }

    /// Said at start when the registry is reached over plain HTTP beyond this host: what
    /// it carries unsigned can then be changed on the way (issue 21, finding 7).
    var transportWarning: String? {
        guard url.lowercased().hasPrefix("http://"), !Self.isLoopback(url: url) else { return nil }
        return "registry url is plain http:// to another host: trust= and record freshness can be changed in transit "
            + "(use https:// with [registry] ca_file or pin_sha256)"
    }

    static func isLoopback(url: String) -> Bool {
        var rest = url.dropFirst("http://".count)
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        let host: Substring
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = rest[rest.index(after: rest.startIndex)..<close]
        } else {
            host = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? rest
        }
        let lower = host.lowercased()
        let octets = lower.split(separator: ".", omittingEmptySubsequences: false).map { UInt8($0) }
        let isIPv4Loopback = octets.count == 4 && !octets.contains(nil) && octets[0] == 127
        return lower == "localhost" || lower == "::1" || isIPv4Loopback
    }
}
