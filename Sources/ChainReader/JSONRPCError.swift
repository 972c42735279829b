/// A JSON-RPC call that failed: the server's error object, an HTTP status, rate
/// limiting, a timeout, a transport failure, or a response that does not parse.
/// Public struct over a private code (as AsyncHTTPClient does) so new kinds do not
/// break callers; match with `error.kind == .rpc` and the `is…` properties.
public struct JSONRPCError: Error, Sendable, CustomStringConvertible {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: Hashable, Sendable {
            case rpc, httpStatus, rateLimited, timeout, transport, invalidResponse
        }
        private let code: Code
        private init(_ code: Code) { self.code = code }

        /// The server answered with a JSON-RPC error object (see `rpcCode`, `message`).
        public static let rpc = Kind(.rpc)
        /// A non-2xx HTTP status without a JSON-RPC error object.
        public static let httpStatus = Kind(.httpStatus)
        /// HTTP 429 (see `retryAfter`).
        public static let rateLimited = Kind(.rateLimited)
        /// No complete answer within the per-call timeout.
        public static let timeout = Kind(.timeout)
        /// Connection refused, reset, DNS failure, TLS failure...
        public static let transport = Kind(.transport)
        /// The body is not a JSON-RPC response (or not the one asked for).
        public static let invalidResponse = Kind(.invalidResponse)

        public var description: String {
            switch code {
            case .rpc: "JSON-RPC error"
            case .httpStatus: "HTTP error"
            case .rateLimited: "rate limited"
            case .timeout: "timeout"
            case .transport: "transport error"
            case .invalidResponse: "invalid response"
            }
        }
    }

    public let kind: Kind
    /// The JSON-RPC method called.
    public let method: String
    /// The endpoint as scheme://host:port only (paths often carry API keys).
    public let endpoint: String
    /// What went wrong, in the server's words where it gave some.
    public let message: String
    /// The JSON-RPC error code (kind `.rpc`).
    public let rpcCode: Int?
    /// The error object's `data` member as JSON text (revert data for code 3).
    public let data: String?
    /// The HTTP status, when there was a response.
    public let httpStatus: Int?
    /// How long the server asked us to wait (HTTP 429 Retry-After).
    public let retryAfter: Duration?

    package init(
        _ kind: Kind, method: String, endpoint: String, message: String, rpcCode: Int? = nil,
        data: String? = nil, httpStatus: Int? = nil, retryAfter: Duration? = nil
    ) {
        self.kind = kind
        self.method = method
        self.endpoint = endpoint
        self.message = message
        self.rpcCode = rpcCode
        self.data = data
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
    }

    /// eth_getLogs asked for too many blocks or results: ask again with a smaller range.
    /// Providers say it in many ways: -32005 "query returned more than 10000 results"
    /// (Infura), -32602 "block range is too wide" (Ankr), "exceed maximum block range:
    /// 2000" (Bor's own limit), "Log response size exceeded" and "up to a 2K block range"
    /// (Alchemy), "eth_getLogs is limited to a 10,000 range" (QuickNode), "Block range
    /// limit exceeded" (Chainstack), "limit exceeded". A rate limit is not one.
    public var isRangeTooLarge: Bool {
        guard kind == .rpc, !isRateLimitMessage else { return false }
        if rpcCode == -32005 { return true }
        let text = message.lowercased()
        return [
            "range", "too many", "more than", "limit exceeded", "too large", "too wide", "response size",
            "results", "max logs", "too big",
        ].contains { text.contains($0) }
    }

    /// The endpoint does not have the block yet (a lagging load-balanced backend).
    public var isHeaderNotFound: Bool {
        guard kind == .rpc else { return false }
        let text = message.lowercased()
        return text.contains("header not found") || text.contains("unknown block")
            || text.contains("block not found")
    }

    /// The call reverted (code 3, or the message says so).
    public var isExecutionReverted: Bool {
        kind == .rpc && (rpcCode == 3 || message.lowercased().hasPrefix("execution reverted"))
    }

    /// The endpoint is rate limiting us: HTTP 429, or a JSON-RPC error saying so
    /// (-32005 "rate limit exceeded", -32029, "request rate exceeded", "exceeded its
    /// compute units per second capacity", "daily request count exceeded", "throttled").
    public var isRateLimited: Bool { kind == .rateLimited || (kind == .rpc && isRateLimitMessage) }

    private var isRateLimitMessage: Bool {
        if rpcCode == -32029 { return true }
        let text = message.lowercased()
        return ["rate limit", "too many requests", "rate exceeded", "request rate", "capacity", "throttl",
            "request count exceeded", "quota", "requests per second"].contains { text.contains($0) }
    }

    /// A whole batch refused for being a batch or too big ("batch size too large",
    /// "batch requests are not supported", HTTP 413): ask again in smaller pieces. A
    /// number in the message is taken as the largest batch accepted.
    var isBatchRefusal: Bool {
        if isRateLimited { return false }
        if kind == .httpStatus { return [400, 413].contains(httpStatus ?? 0) || message.lowercased().contains("batch") }
        return kind == .rpc && (message.lowercased().contains("batch") || rpcCode == -32600)
    }

    /// The largest number in the message ("maximum batch size is 10"), if any.
    var statedLimit: Int? {
        message.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }.filter { $0 > 0 }.max()
    }

    /// Worth trying again (on another endpoint): transient, or this endpoint's problem.
    public var isRetryable: Bool {
        switch kind {
        case .timeout, .transport, .rateLimited, .invalidResponse: return true
        case .httpStatus: return (httpStatus ?? 0) >= 500 || httpStatus == 408
        case .rpc: return isHeaderNotFound || isRateLimitMessage || rpcCode == -32603
        default: return false
        }
    }

    public var description: String {
        var text = "\(method) via \(endpoint): \(kind)"
        if let rpcCode { text += " \(rpcCode)" }
        if let httpStatus, kind != .rpc { text += " (HTTP \(httpStatus))" }
        text += ": \(message)"
        if let retryAfter { text += " (retry after \(retryAfter))" }
        return text
    }
}
