import Foundation

/// A JSON-RPC URL given on a command line. Provider URLs carry API keys
/// (`https://polygon-mainnet.example/v2/KEY`), and every user of the machine can read
/// a process's arguments (`ps`, /proc/PID/cmdline); so a flag may name where the URL
/// is instead: `env:NAME` (an environment variable) or `@PATH` (a file's first line).
public enum RPCURLArgument {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The URL `value` gives (itself, or what it points at), checked to be http(s).
    public static func resolve(
        _ value: String, flag: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(Failure) -> URL {
        let text: String
        if value.hasPrefix("env:") {
            let name = String(value.dropFirst(4))
            guard let found = environment[name], !found.isEmpty else {
                throw Failure(description: "\(flag) \(value): the environment variable \(name) is not set")
            }
            text = found
        } else if value.hasPrefix("@") {
            let path = String(value.dropFirst())
            guard let data = FileManager.default.contents(atPath: path), let contents = String(data: data, encoding: .utf8)
            else { throw Failure(description: "\(flag) \(value): cannot read \(path)") }
            text = String(contents.split(whereSeparator: \.isNewline).first ?? "")
        } else {
            text = value
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let url = URL(string: trimmed), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            // Never echo what came from a file or the environment: it may hold a key.
            let shown = text == value ? value : "(from \(value))"
            throw Failure(description: "\(flag) must be an http(s) URL, env:NAME or @FILE, got \(shown)")
        }
        return url
    }
}
