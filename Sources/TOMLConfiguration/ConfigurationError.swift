/// A configuration problem, naming the key (as written in the TOML file, or the
/// flag that set it) and what is wrong with it: `invalid config key
/// chain.rpc_urls[1]: "ftp://x" is not an http(s) URL`.
package struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    package let key: String
    package let problem: String

    package init(key: String, _ problem: String) {
        self.key = key
        self.problem = problem
    }

    package var description: String { "invalid config key \(key): \(problem)" }
}
