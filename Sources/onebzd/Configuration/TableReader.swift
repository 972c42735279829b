import ChainReader
import Foundation
import TOMLKit

/// Typed access to one TOML table with errors that name the full key path.
struct TableReader {
    let table: TOMLTable
    let path: String

    init(_ table: TOMLTable, path: String) {
        self.table = table
        self.path = path
    }

    func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    func onlyKeys(_ allowed: Set<String>) throws(ConfigurationError) {
        for name in table.keys.sorted() where !allowed.contains(name) {
            throw ConfigurationError(
                key: key(name), "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    func required<T>(_ value: T?, _ name: String) throws(ConfigurationError) -> T {
        guard let value else {
            throw ConfigurationError(key: key(name), "is required in [\(path)]")
        }
        return value
    }

    func table(_ name: String) throws(ConfigurationError) -> TableReader? {
        guard let value = table[name] else { return nil }
        guard let t = value.table else { throw ConfigurationError(key: key(name), "must be a table ([\(name)])") }
        return TableReader(t, path: key(name))
    }

    func string(_ name: String) throws(ConfigurationError) -> String? {
        guard let value = table[name] else { return nil }
        guard let s = value.string else { throw ConfigurationError(key: key(name), "must be a string") }
        return s
    }

    func int(_ name: String, min: Int, max: Int = Int.max) throws(ConfigurationError) -> Int? {
        guard let value = table[name] else { return nil }
        guard let i = value.int else { throw ConfigurationError(key: key(name), "must be an integer") }
        guard i >= min && i <= max else {
            throw ConfigurationError(key: key(name), "\(i) is out of range (\(min)...\(max))")
        }
        return i
    }

    /// An integer or a float, at least `min`.
    func double(_ name: String, min: Double) throws(ConfigurationError) -> Double? {
        guard let value = table[name] else { return nil }
        guard let d = value.double ?? value.int.map(Double.init), d.isFinite else {
            throw ConfigurationError(key: key(name), "must be a number")
        }
        guard d >= min else { throw ConfigurationError(key: key(name), "\(d) must be at least \(min)") }
        return d
    }

    /// An integer (seconds) or a string with a unit: `500ms`, `2s`, `5m`, `1h`, `3d`.
    func duration(_ name: String) throws(ConfigurationError) -> Duration? {
        guard let value = table[name] else { return nil }
        if let seconds = value.int {
            guard seconds >= 0 else { throw ConfigurationError(key: key(name), "must not be negative") }
            return .seconds(seconds)
        }
        guard let text = value.string, let d = Self.parseDuration(text) else {
            throw ConfigurationError(key: key(name), "must be seconds or a duration like \"500ms\", \"2s\", \"5m\", \"1h\", \"1d\"")
        }
        return d
    }

    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, millis) in units where text.hasSuffix(suffix) {
            guard let n = Int64(text.dropLast(suffix.count)), n >= 0 else { return nil }
            return .milliseconds(n * millis)
        }
        return nil
    }

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

    func strings(_ name: String) throws(ConfigurationError) -> [String]? {
        guard let value = table[name] else { return nil }
        if let s = value.string { return [s] }
        guard let array = value.array else {
            throw ConfigurationError(key: key(name), "must be a string or an array of strings")
        }
        var out: [String] = []
        for (i, item) in array.enumerated() {
            guard let s = item.string else { throw ConfigurationError(key: "\(key(name))[\(i)]", "must be a string") }
            out.append(s)
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

    func bool(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let value = table[name] else { return nil }
        guard let b = value.bool else { throw ConfigurationError(key: key(name), "must be true or false") }
        return b
    }
}
