/// A registry TLS setting that cannot be used (an unreadable CA file, a malformed pin),
/// naming the setting so that onebzd and onebz can name their key or flag.
public struct RegistryTLSError: Error, Hashable, CustomStringConvertible {
    public struct Setting: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        /// `[registry] ca_file`, `--registry-ca`.
        public static let caFile = Setting(name: "CA file")
        /// `[registry] pin_sha256`, `--registry-pin`.
        public static let pin = Setting(name: "pin")
        public var description: String { name }
    }

    public let setting: Setting
    public let problem: String

    public init(setting: Setting, _ problem: String) {
        self.setting = setting
        self.problem = problem
    }

    public var description: String { "registry TLS \(setting): \(problem)" }
}
