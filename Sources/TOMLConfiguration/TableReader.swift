import TOMLKit

/// Typed access to one TOML table with errors that name the full key path: the one
/// configuration reader of onebzd and onebz-web (each adds its own value types in an
/// extension: onebzd's URLs, addresses and endpoints in `TableReader+Server`).
package struct TableReader {
    package let table: TOMLTable
    package let path: String

    package init(_ table: TOMLTable, path: String) {
        self.table = table
        self.path = path
    }

    /// A TOML document's top table; a syntax error names the line (key `(file)`).
    package static func document(_ text: String) throws(ConfigurationError) -> TableReader {
        do {
            return TableReader(try TOMLTable(string: text), path: "")
        } catch let error as TOMLParseError {
            throw ConfigurationError(key: "(file)", "TOML syntax at \(error.source.begin): \(error.description)")
        } catch {
            throw ConfigurationError(key: "(file)", "\(error)")
        }
    }

    package func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    package func onlyKeys(_ allowed: Set<String>) throws(ConfigurationError) {
        for name in table.keys.sorted() where !allowed.contains(name) {
            throw ConfigurationError(
                key: key(name), "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    package func required<T>(_ value: T?, _ name: String) throws(ConfigurationError) -> T {
        guard let value else {
            throw ConfigurationError(key: key(name), "is required in [\(path)]")
        }
        return value
    }

    package func table(_ name: String) throws(ConfigurationError) -> TableReader? {
        guard let value = table[name] else { return nil }
        guard let t = value.table else { throw ConfigurationError(key: key(name), "must be a table ([\(name)])") }
        return TableReader(t, path: key(name))
    }

    package func string(_ name: String) throws(ConfigurationError) -> String? {
        guard let value = table[name] else { return nil }
        guard let s = value.string else { throw ConfigurationError(key: key(name), "must be a string") }
        return s
    }

    package func int(_ name: String, min: Int, max: Int = Int.max) throws(ConfigurationError) -> Int? {
        guard let value = table[name] else { return nil }
        guard let i = value.int else { throw ConfigurationError(key: key(name), "must be an integer") }
        guard i >= min && i <= max else {
            throw ConfigurationError(key: key(name), "\(i) is out of range (\(min)...\(max))")
        }
        return i
    }

    /// An integer or a float, at least `min`.
    package func double(_ name: String, min: Double) throws(ConfigurationError) -> Double? {
        guard let value = table[name] else { return nil }
        guard let d = value.double ?? value.int.map(Double.init), d.isFinite else {
            throw ConfigurationError(key: key(name), "must be a number")
        }
        guard d >= min else { throw ConfigurationError(key: key(name), "\(d) must be at least \(min)") }
        return d
    }

    /// An integer (seconds) or a string with a unit: `500ms`, `2s`, `5m`, `1h`, `3d`;
    /// `positive`: zero is refused too.
    package func duration(_ name: String, positive: Bool = false) throws(ConfigurationError) -> Duration? {
        guard let value = table[name] else { return nil }
        let duration: Duration
        if let seconds = value.int {
            guard seconds >= 0 else { throw ConfigurationError(key: key(name), "must not be negative") }
            duration = .seconds(seconds)
        } else {
            guard let text = value.string, let d = Self.parseDuration(text) else {
                throw ConfigurationError(
                    key: key(name), "must be seconds or a duration like \"500ms\", \"2s\", \"5m\", \"1h\", \"1d\"")
            }
            duration = d
        }
        guard !positive || duration > .zero else { throw ConfigurationError(key: key(name), "must be more than 0") }
        return duration
    }

    package static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, millis) in units where text.hasSuffix(suffix) {
            guard let n = Int64(text.dropLast(suffix.count)), n >= 0 else { return nil }
            return .milliseconds(n * millis)
        }
        return nil
    }

    package func strings(_ name: String) throws(ConfigurationError) -> [String]? {
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

    package func bool(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let value = table[name] else { return nil }
        guard let b = value.bool else { throw ConfigurationError(key: key(name), "must be true or false") }
        return b
    }
}
