/// A failed registry call. `kind` tells the caller what to do: `notFound` is an answer
/// (the node has no record), `unavailable` is a transient backend failure (serve stale,
/// never NXDOMAIN), `invalidResponse` means the registry answered something we do not
/// believe (bad JSON, a record failing verification), `rejected` is a 4xx for our request.
public struct RegistryClientError: Error, Hashable, CustomStringConvertible {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        public static let notFound = Kind(name: "not found")
        public static let unavailable = Kind(name: "unavailable")
        public static let invalidResponse = Kind(name: "invalid response")
        public static let rejected = Kind(name: "rejected")
        public var description: String { name }
    }

    public let kind: Kind
    public let detail: String
    /// HTTP status, when the registry answered.
    public let status: Int?

    public init(kind: Kind, detail: String, status: Int? = nil) {
        self.kind = kind
        self.detail = detail
        self.status = status
    }

    public var description: String {
        "registry \(kind)" + (status.map { " (HTTP \($0))" } ?? "") + ": \(detail)"
    }
}
