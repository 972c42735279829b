import ChainReader
import Foundation
import TOMLConfiguration
import TOMLKit

/// onebzd's value types in its configuration file: addresses, URLs, RPC endpoints.
extension TableReader {
    func hostPort(_ name: String) throws(ConfigurationError) -> HostPort? {
        guard let text = try string(name) else { return nil }
        do { return try HostPort(parsing: text) } catch { throw ConfigurationError(key: key(name), error.problem) }
    }

    func hostPorts(_ name: String) throws(ConfigurationError) -> [HostPort]? {
        guard let items = try strings(name) else { return nil }
        guard !items.isEmpty else { throw ConfigurationError(key: key(name), "must list at least one address") }
        var out: [HostPort] = []
        for (i, text) in items.enumerated() {
            do { out.append(try HostPort(parsing: text)) } catch {
                throw ConfigurationError(key: "\(key(name))[\(i)]", error.problem)
            }
        }
        return out
    }

    /// http(s) URLs; `single` accepts exactly one.
    func urls(_ name: String, single: Bool = false) throws(ConfigurationError) -> [URL]? {
        let items: [String]?
        if single { items = try string(name).map { [$0] } } else { items = try strings(name) }
        guard let items else { return nil }
        guard !items.isEmpty else { throw ConfigurationError(key: key(name), "must list at least one URL") }
        return try items.enumerated().map { i, url throws(ConfigurationError) in
            try ServerConfiguration.parsedHTTPURL(url, key: single ? key(name) : "\(key(name))[\(i)]")
        }
    }

    /// RPC endpoints: each a URL string, or a table `{ url = "...", requests_per_second = N }`
    /// giving that endpoint its own request budget (0: unlimited).
    func endpoints(_ name: String) throws(ConfigurationError) -> [(url: URL, requestsPerSecond: Double?)]? {
        guard let value = table[name] else { return nil }
        let items: [any TOMLValueConvertible]
        if let array = value.array { items = Array(array) } else { items = [value] }
        guard !items.isEmpty else { throw ConfigurationError(key: key(name), "must list at least one URL") }
        var out: [(url: URL, requestsPerSecond: Double?)] = []
        for (i, item) in items.enumerated() {
            let itemKey = value.array == nil ? key(name) : "\(key(name))[\(i)]"
            if let text = item.string {
                out.append((try ServerConfiguration.parsedHTTPURL(text, key: itemKey), nil))
                continue
            }
            guard let inline = item.table else {
                throw ConfigurationError(
                    key: itemKey, "must be a URL string or a table { url = \"...\", requests_per_second = N }")
            }
            let t = TableReader(inline, path: itemKey)
            try t.onlyKeys(["url", "requests_per_second"])
            guard let url = try t.string("url") else { throw ConfigurationError(key: t.key("url"), "is required") }
            let budget = try t.double("requests_per_second", min: 0)
            out.append((try ServerConfiguration.parsedHTTPURL(url, key: t.key("url")), budget))
        }
        return out
    }

    /// A 0x-prefixed 20-byte hex address.
    func address(_ name: String) throws(ConfigurationError) -> EthereumAddress? {
        guard let text = try string(name) else { return nil }
        return try ServerConfiguration.address(text, key: key(name))
    }
}
