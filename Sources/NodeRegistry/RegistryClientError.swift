/// A failed registry call. `kind` tells the caller what to do: `notFound` is an answer
/// (the node has no record), `unavailable` is a transient backend failure (serve stale,
/// never NXDOMAIN), `invalidResponse` means the registry answered something we do not
/// believe (a record failing verification), `malformed` a body that does not decode
/// (a broken backend: also serve stale), `rejected` is a 4xx for our request.
public struct RegistryClientError: Error, Hashable, CustomStringConvertible {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        public static let notFound = Kind(name: "not found")
        public static let unavailable = Kind(name: "unavailable")
        public static let invalidResponse = Kind(name: "invalid response")
        /// A 2xx answer that is not JSON of the expected shape: a broken backend or a
        /// proxy cutting the body, treated like `unavailable` (serve stale), not as a
        /// record that failed its checks.
        public static let malformed = Kind(name: "malformed response")
        public static let rejected = Kind(name: "rejected")
        /// The change feed no longer holds the asked-for cursor (HTTP 410 `resync`):
        /// drop what was learnt from it and start again from its end.
        public static let resync = Kind(name: "resync required")
        public var description: String { name }
    }

    public let kind: Kind
    public let detail: String
    /// HTTP status, when the registry answered.
    public let status: Int?
    /// For a by-name `notFound`: the node hash the registry's chain view has for the
    /// name (it is registered, without a record). nil when the registry did not say.
    public let registeredNodeHash: NodeHash?

    public init(kind: Kind, detail: String, status: Int? = nil, registeredNodeHash: NodeHash? = nil) {
        self.kind = kind
        self.detail = detail
        self.status = status
        self.registeredNodeHash = registeredNodeHash
    }

    public var description: String {
        "registry \(kind)" + (status.map { " (HTTP \($0))" } ?? "") + ": \(detail)"
    }
}
