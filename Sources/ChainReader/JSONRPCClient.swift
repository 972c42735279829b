import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOFoundationCompat

/// Ethereum JSON-RPC over HTTP(S) with several endpoints: keep-alive connections (one
/// shared AsyncHTTPClient pool), a timeout per attempt, failover to the next endpoint
/// with exponential backoff, HTTP 429 Retry-After respected per endpoint.
/// Errors are `JSONRPCError`; deterministic ones (a revert, invalid params, a range
/// too large) are thrown at once, transient ones are retried up to `maxAttempts`.
public final class JSONRPCClient: Sendable {
    public struct Configuration: Sendable {
        /// Endpoints in order of preference (at least one).
        public var endpoints: [URL]
        /// Deadline for one attempt (request and whole response body).
        public var timeout: Duration = .seconds(5)
        /// Attempts per call, over all endpoints.
        public var maxAttempts: Int = 4
        /// First retry delay once every endpoint failed; doubles up to `maxBackoff`.
        public var backoff: Duration = .milliseconds(100)
        public var maxBackoff: Duration = .seconds(2)
        /// A Retry-After longer than this fails the call instead of waiting.
        public var maxRetryAfter: Duration = .seconds(10)
        /// Larger responses are rejected (an eth_getLogs over a busy contract can be big).
        public var maxResponseBytes: Int = 32 * 1024 * 1024
        /// Requests per second per endpoint, retries included (a token bucket holding
        /// `requestBurst`, default one second's worth); nil: unlimited. Past it a call
        /// goes to another endpoint that has a token, or waits for the first token.
        public var requestsPerSecond: Double?
        public var requestBurst: Double?
        /// Budgets of single endpoints, overriding `requestsPerSecond` for them (0:
        /// unlimited): a paid plan beside a public endpoint.
        public var endpointRequestsPerSecond: [URL: Double] = [:]
        /// The chain every endpoint must serve: an endpoint not known to serve it (it was
        /// down when onebzd started) is asked eth_chainId before its first use; one that
        /// names another chain is never used (logged, `onebz_chain_endpoint_wrong_chain`).
        /// nil: not checked.
        public var expectedChainID: UInt64?
        /// A rate limit without Retry-After rests the endpoint this long, doubling with
        /// each limit in a row up to `maxRateLimitBackoff`, with jitter (0.5–1×).
        public var rateLimitBackoff: Duration = .milliseconds(500)
        public var maxRateLimitBackoff: Duration = .seconds(10)
        /// The largest JSON-RPC batch sent; an endpoint that refuses one gets smaller ones.
        public var maxBatchSize: Int = 100
        /// A read not answered within this is also sent to the next endpoint that is ready
        /// (one hedge per attempt; the first answer wins, the other is cancelled); nil:
        /// never. Transactions (`eth_send…`) are never hedged.
        public var hedgeAfter: Duration?
        /// Jitter factor source (0.5...1); tests pin it.
        public var jitter: @Sendable () -> Double = { Double.random(in: 0.5...1) }

        public init(endpoints: [URL]) {
            precondition(!endpoints.isEmpty, "JSONRPCClient needs at least one endpoint URL")
            self.endpoints = endpoints
        }

        /// The budget of `url`: its own, else `requestsPerSecond`; nil: unlimited.
        public func requestsPerSecond(of url: URL) -> Double? {
            guard let own = endpointRequestsPerSecond[url] else { return requestsPerSecond }
            return own > 0 ? own : nil
        }
    }

    public let configuration: Configuration
    private let httpClient: HTTPClient
    private let logger: Logger
    private let state: NIOLockedValueBox<EndpointState>
    private let names: [String]
    private let metrics: [EndpointMetrics]
    private let hedges = Counter(label: "onebz_chain_rpc_hedged_total")

    /// The process-wide pool all clients share by default (keep-alive connections per
    /// endpoint). Unlike `HTTPClient.shared` it does not retry a refused connection until
    /// the deadline: a dead endpoint fails at once, so failover is quick. It follows no
    /// redirects: an RPC endpoint or registry that answers 3xx gets no request sent where
    /// it points (another host, a plain-HTTP URL). Never shut down.
    public static let sharedHTTPClient = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: sharedHTTPConfiguration)

    /// The shared pool's settings, for a dedicated pool that differs only in TLS (the
    /// registry client with a private CA): no redirects, fail fast on a refused connection.
    public static var sharedHTTPConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(30))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// - Parameter httpClient: the connection pool; the caller owns its lifecycle
    ///   (default: `sharedHTTPClient`, which needs no shutdown).
    public init(
        configuration: Configuration, httpClient: HTTPClient = JSONRPCClient.sharedHTTPClient,
        logger: Logger = Logger(label: "onebz.chain.rpc")
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
        self.state = NIOLockedValueBox(
            EndpointState(
                count: configuration.endpoints.count,
                pacers: configuration.endpoints.map { url in
                    configuration.requestsPerSecond(of: url).map {
                        RequestPacer.shared(for: url.absoluteString, rate: $0, burst: configuration.requestBurst)
                    }
                }, maxBatchSize: configuration.maxBatchSize))
        self.names = configuration.endpoints.map(Self.redacted)
        self.metrics = names.map { EndpointMetrics(name: $0) }
        for (metric, url) in zip(metrics, configuration.endpoints) {
            metric.batchSize(configuration.maxBatchSize)
            EndpointStatistics.shared.budget(metric.name, configuration.requestsPerSecond(of: url))
        }
    }

    /// The most calls endpoint `index` takes in one batch, as learnt so far (1: it
    /// refuses batches); `configuration.maxBatchSize` until it refused one.
    public func batchLimit(endpoint index: Int) -> Int {
        state.withLockedValue { $0.batchLimits[index] }
    }

    public convenience init(url: URL, httpClient: HTTPClient = JSONRPCClient.sharedHTTPClient) {
        self.init(configuration: Configuration(endpoints: [url]), httpClient: httpClient)
    }

    /// Calls `method` and returns its `result` (`.null` when the server answered null).
    public func call(_ method: String, _ params: [JSONValue] = []) async throws -> JSONValue {
        try await call(method, params) { $0 }
    }

    /// Calls `method` and returns `decode(result)`. A result that `decode` rejects counts
    /// as an invalid response of that endpoint: the call fails over to the next one, as
    /// for an endpoint that is down (a lying or broken endpoint must not win when an
    /// honest one is configured; see docs/robustness.md).
    public func call<T>(
        _ method: String, _ params: [JSONValue] = [], decode: (JSONValue) throws -> T
    ) async throws -> T {
        try await withFailover(method) { index in
            let result = try await performHedged(method, params, endpoint: index)
            observeHeight(method, result, endpoint: index)
            do { return try decode(result) } catch {
                let message = (error as? JSONRPCError)?.message ?? "result does not decode: \(error)"
                throw JSONRPCError(.invalidResponse, method: method, endpoint: names[index], message: message)
            }
        }
    }

    /// Several calls in one HTTP request (a JSON-RPC 2.0 batch, section 6): one round
    /// trip for calls that do not depend on each other. `decode` gets one result per call,
    /// in the order of `calls` whatever the order of the answers; an element's error
    /// object is that element's `.failure` (kind `.rpc`). The whole batch fails over like
    /// one call: on a transport failure, or when `decode` throws (a JSON-RPC error it
    /// rethrows keeps its kind, so a revert is final and "header not found" is retried;
    /// anything else counts as an invalid response of that endpoint).
    public func batch<T>(
        _ calls: [(method: String, params: [JSONValue])],
        decode: ([Result<JSONValue, JSONRPCError>]) throws -> T
    ) async throws -> T {
        precondition(!calls.isEmpty, "an empty JSON-RPC batch")
        let label = calls.map(\.method).joined(separator: "+")
        return try await withFailover(label) { index in
            let results = try await sendHedged(calls, label: label, endpoint: index)
            do { return try decode(results) } catch let error as JSONRPCError where error.kind == .rpc {
                throw error
            } catch {
                let message = (error as? JSONRPCError)?.message ?? "batch results do not decode: \(error)"
                throw JSONRPCError(.invalidResponse, method: label, endpoint: names[index], message: message)
            }
        }
    }

    /// The calls sent to one endpoint in batches of at most the size it accepts; when it
    /// refuses a batch ("batch size too large", batches not supported, HTTP 413) the limit
    /// shrinks (to the size it names, else by half, down to single calls) and the rest
    /// goes in smaller pieces. Results in the order of `calls`.
    private func sendInPieces(
        _ calls: [(method: String, params: [JSONValue])], label: String, endpoint index: Int
    ) async throws -> [Result<JSONValue, JSONRPCError>] {
        var results: [Result<JSONValue, JSONRPCError>] = []
        results.reserveCapacity(calls.count)
        var start = 0
        var first = true
        while start < calls.count {
            // The first piece's request token was taken by the failover loop.
            if !first { try await waitForToken(index) }
            first = false
            let limit = state.withLockedValue { $0.batchLimits[index] }
            let piece = Array(calls[start..<min(calls.count, start + limit)])
            do {
                if piece.count == 1 {
                    let id = state.withLockedValue { $0.nextID() }
                    do {
                        results.append(.success(try await perform(piece[0].method, piece[0].params, id: id, endpoint: index)))
                    } catch let error as JSONRPCError where error.kind == .rpc && !error.isRateLimited {
                        results.append(.failure(error))
                    }
                } else {
                    let firstID = state.withLockedValue { $0.nextIDs(piece.count) }
                    results += try await performBatch(piece, firstID: firstID, label: label, endpoint: index)
                }
                start += piece.count
            } catch let error as JSONRPCError where error.isBatchRefusal && piece.count > 1 {
                let next = state.withLockedValue { $0.refusedBatch(index, size: piece.count, limit: error.statedLimit) }
                metrics[index].batchRefused()
                metrics[index].batchSize(next)
                logger.info(
                    "endpoint refused a JSON-RPC batch, sending smaller ones",
                    metadata: ["endpoint": "\(names[index])", "batch": "\(piece.count)", "now": "\(next)", "error": "\(error)"])
            }
        }
        for (call, result) in zip(calls, results) { observeHeight(call.method, try? result.get(), endpoint: index) }
        return results
    }

    /// Waits until `index` has a request token (bounded requests per second), and takes it.
    /// `counted`: the request is counted now (false: the caller counts it).
    private func waitForToken(_ index: Int, counted: Bool = true) async throws {
        let clock = ContinuousClock()
        if let readyAt = state.withLockedValue({ $0.reserveToken(index, now: clock.now) }) {
            try await Task.sleep(until: readyAt, clock: clock)
        }
        if counted { metrics[index].request() }
    }

    /// Whether `index` serves `expectedChainID`: known (checked at start, or by any client
    /// of the process before), else asked now with eth_chainId (the request token taken
    /// for this attempt pays for it; the attempt then waits for another). False: it serves
    /// another chain and is excluded for good. Throws when it cannot be asked (the attempt
    /// failed, as any other).
    private func servesExpectedChain(_ index: Int) async throws -> Bool {
        guard let expected = configuration.expectedChainID else { return true }
        let name = names[index]
        switch EndpointStatistics.shared.chainID(name) {
        case .checked: return true
        case .wrong(let reported):
            excludeWrongChain(index, reported: reported, expected: expected, newlySeen: false)
            return false
        case .unchecked: break
        }
        let id = state.withLockedValue { $0.nextID() }
        metrics[index].request()
        let result = try await perform("eth_chainId", [], id: id, endpoint: index)
        guard let text = result.stringValue, let reported = UInt256(hexQuantity: text)?.uint64 else {
            throw JSONRPCError(
                .invalidResponse, method: "eth_chainId", endpoint: name, message: "result is not a quantity: \(result)")
        }
        guard reported == expected else {
            excludeWrongChain(index, reported: reported, expected: expected, newlySeen: true)
            return false
        }
        if EndpointStatistics.shared.setChainID(name, .checked) {
            logger.info("chain id checked", metadata: ["endpoint": "\(name)", "chainId": "\(expected)"])
        }
        try await waitForToken(index, counted: false)
        return true
    }

    private func wrongChainError(_ method: String, endpoint index: Int) -> JSONRPCError {
        let reported: String
        if case .wrong(let id) = EndpointStatistics.shared.chainID(names[index]) {
            reported = " (it reports \(id))"
        } else {
            reported = ""
        }
        return JSONRPCError(
            .invalidResponse, method: method, endpoint: names[index],
            message: "not used: it serves another chain than \(configuration.expectedChainID ?? 0)\(reported)")
    }

    private func excludeWrongChain(_ index: Int, reported: UInt64, expected: UInt64, newlySeen: Bool) {
        state.withLockedValue { $0.exclude(index) }
        guard newlySeen, metrics[index].wrongChain(reported: reported) else { return }
        logger.error(
            "endpoint serves another chain, not using it: fix chain.rpc_urls",
            metadata: ["endpoint": "\(names[index])", "chainId": "\(reported)", "expected": "\(expected)"])
    }

    /// Endpoint heights for the operator view: eth_blockNumber is the endpoint's head;
    /// a block it served is at most its head.
    private func observeHeight(_ method: String, _ result: JSONValue?, endpoint index: Int) {
        guard let result else { return }
        switch method {
        case "eth_blockNumber":
            if let text = result.stringValue, let height = UInt256(hexQuantity: text)?.uint64 {
                metrics[index].reported(height: height, latest: true)
            }
        case "eth_getBlockByNumber":
            // The gauge and /status/chain show the same height (a block served counts too).
            if let text = result["number"]?.stringValue, let height = UInt256(hexQuantity: text)?.uint64 {
                metrics[index].reported(height: height, latest: false)
            }
        default: break
        }
    }

    /// Runs `attempt` on the endpoint to use, moving on to the next endpoint (with
    /// backoff and Retry-After) while it fails with a retryable error.
    private func withFailover<T>(_ method: String, _ attempt: (Int) async throws -> T) async throws -> T {
        var lastError: JSONRPCError?
        var failedHere: Set<Int> = []  // endpoints this call failed on (not rate limits)
        let clock = ContinuousClock()
        for attemptNumber in 0..<max(1, configuration.maxAttempts) {
            try Task.checkCancellation()
            // The request token is taken with the choice: concurrent calls queue up.
            if state.withLockedValue({ $0.allExcluded }) { throw lastError ?? wrongChainError(method, endpoint: 0) }
            let (index, readyAt) = state.withLockedValue { $0.reserve(now: clock.now, avoiding: failedHere) }
            if let readyAt {
                let wait = readyAt - clock.now
                if wait > configuration.maxRetryAfter {
                    throw lastError
                        ?? JSONRPCError(
                            .rateLimited, method: method, endpoint: names[index],
                            message: "every endpoint asked us to wait, the shortest for \(wait)", retryAfter: wait)
                }
                try await Task.sleep(until: readyAt, clock: clock)
            } else if attemptNumber > 0, attemptNumber % configuration.endpoints.count == 0 {
                try await Task.sleep(for: backoff(round: attemptNumber / configuration.endpoints.count))
            }
            do {
                guard try await servesExpectedChain(index) else {
                    lastError = wrongChainError(method, endpoint: index)
                    continue
                }
                metrics[index].request()
                let value = try await attempt(index)
                state.withLockedValue { $0.succeeded(index) }
                return value
            } catch let error as JSONRPCError {
                metrics[index].error(error)
                guard error.isRetryable else { throw error }
                lastError = error
                if error.isRateLimited {
                    metrics[index].rateLimited()
                    let rest = state.withLockedValue {
                        $0.rateLimited(
                            index, retryAfter: error.retryAfter, base: configuration.rateLimitBackoff,
                            cap: configuration.maxRateLimitBackoff, jitter: configuration.jitter(), now: clock.now)
                    }
                    logger.info(
                        "endpoint is rate limiting, resting it",
                        metadata: ["method": "\(method)", "endpoint": "\(names[index])", "rest": "\(rest)", "error": "\(error)"])
                    continue
                }
                // An answer that does not decode (a failed proof, say) is a lie or a bug
                // of that endpoint: worth a warning naming it; the rest is routine.
                logger.log(
                    level: error.kind == .invalidResponse ? .warning : .debug, "JSON-RPC attempt failed, trying again",
                    metadata: ["method": "\(method)", "endpoint": "\(names[index])", "error": "\(error)"])
                failedHere.insert(index)
                state.withLockedValue { $0.failed(index, coolDownUntil: nil) }
            }
        }
        throw lastError!
    }

    /// The answer the preferred endpoint just gave turned out to be a lie once checked
    /// (after the call returned: e.g. a block the quorum does not agree with): the next
    /// call goes to the next endpoint, as after a failed attempt.
    public func distrustPreferredEndpoint() {
        state.withLockedValue { $0.failed($0.preferred, coolDownUntil: nil) }
    }

    /// The endpoint the next call goes to first (the preferred one, unless it is
    /// cooling down after a 429).
    public var currentEndpoint: URL {
        configuration.endpoints[state.withLockedValue { $0.pick(now: .now).0 }]
    }

    private func backoff(round: Int) -> Duration {
        var delay = configuration.backoff
        for _ in 1..<max(1, round) { delay = min(delay * 2, configuration.maxBackoff) }
        return min(delay, configuration.maxBackoff)
    }

    // MARK: one attempt

    private enum Raced<Value: Sendable>: Sendable {
        case primary(Result<Value, any Error>)
        /// nil: no endpoint was ready for a hedge.
        case hedge(Result<Value, any Error>?)
    }

    /// One attempt on `index`, hedged (`hedgeAfter`): when it has not answered in time, the
    /// same call also goes to the next ready endpoint and the first answer wins. A primary
    /// that fails ends the attempt at once (the failover loop moves on), unless a hedge is
    /// already out, whose answer is then awaited.
    private func performHedged(_ method: String, _ params: [JSONValue], endpoint index: Int) async throws -> JSONValue {
        try await hedged(method, endpoint: index) { endpoint in
            let id = self.state.withLockedValue { $0.nextID() }
            return try await self.perform(method, params, id: id, endpoint: endpoint)
        }
    }

    /// A batch attempt hedged as a single call is: the whole batch also goes to the next
    /// ready endpoint after `hedgeAfter` (all its calls to one endpoint, as a range's
    /// headers and logs must be), and the first complete answer wins.
    private func sendHedged(
        _ calls: [(method: String, params: [JSONValue])], label: String, endpoint index: Int
    ) async throws -> [Result<JSONValue, JSONRPCError>] {
        let hedgeable = !calls.contains { $0.method.hasPrefix("eth_send") }
        return try await hedged(label, endpoint: index, hedgeable: hedgeable) { endpoint in
            try await self.sendInPieces(calls, label: label, endpoint: endpoint)
        }
    }

    /// Runs `send(index)`; with `hedgeAfter` (and `hedgeable`: never for transactions),
    /// also `send(other)` on the next ready endpoint known to serve the expected chain once
    /// `hedgeAfter` has passed without an answer; the first success wins, the other is
    /// cancelled.
    private func hedged<Value: Sendable>(
        _ label: String, endpoint index: Int, hedgeable: Bool? = nil,
        _ send: @escaping @Sendable (Int) async throws -> Value
    ) async throws -> Value {
        guard let after = configuration.hedgeAfter, configuration.endpoints.count > 1,
            hedgeable ?? !label.hasPrefix("eth_send")
        else {
            return try await send(index)
        }
        let sent = NIOLockedValueBox(false)
        return try await withThrowingTaskGroup(of: Raced<Value>.self) { group in
            group.addTask {
                do { return .primary(.success(try await send(index))) } catch { return .primary(.failure(error)) }
            }
            group.addTask {
                try await Task.sleep(for: after)
                let clock = ContinuousClock()
                // Only to an endpoint known to serve the expected chain (no check on a hedge).
                guard let second = self.state.withLockedValue({ $0.hedgeTarget(excluding: index, now: clock.now) }),
                    self.configuration.expectedChainID == nil
                        || EndpointStatistics.shared.chainID(self.names[second]) == .checked
                else {
                    return .hedge(nil)
                }
                sent.withLockedValue { $0 = true }
                self.metrics[second].request()
                self.hedges.increment()
                do { return .hedge(.success(try await send(second))) } catch { return .hedge(.failure(error)) }
            }
            var primaryFailure: (any Error)?
            while let raced = try await group.next() {
                switch raced {
                case .primary(.success(let value)), .hedge(.success(let value)?):
                    group.cancelAll()
                    return value
                case .primary(.failure(let error)):
                    // No hedge out: the failover loop moves on now (the sleeping hedge is cancelled).
                    guard sent.withLockedValue({ $0 }) else { throw error }
                    primaryFailure = error
                case .hedge(nil):
                    continue
                case .hedge(.failure?):
                    if let primaryFailure { throw primaryFailure }
                }
            }
            throw primaryFailure ?? CancellationError()
        }
    }

    private func perform(_ method: String, _ params: [JSONValue], id: Int, endpoint index: Int) async throws
        -> JSONValue
    {
        let body = try JSONEncoder().encode(RequestBody(id: id, method: method, params: params))
        let (status, bytes) = try await post(body, label: method, endpoint: index)
        return try Self.decodeResponse(bytes, status: status, id: id, method: method, endpoint: names[index])
    }

    /// The result of one call from the response `bytes` (HTTP `status`) to request `id`,
    /// or the JSON-RPC error it carries, or `.invalidResponse`/`.httpStatus`. Pure (the
    /// fuzz target `jsonrpc` calls it, Fuzz/OnebzFuzz).
    package static func decodeResponse(
        _ bytes: ByteBuffer, status: Int, id: Int, method: String, endpoint name: String
    ) throws(JSONRPCError) -> JSONValue {
        func failure(_ kind: JSONRPCError.Kind, _ message: String, status: Int? = nil) -> JSONRPCError {
            JSONRPCError(kind, method: method, endpoint: name, message: message, httpStatus: status)
        }
        let decoded: ResponseBody
        do {
            decoded = try JSONDecoder().decode(ResponseBody.self, from: bytes)
        } catch {
            if !(200..<300).contains(status) {
                throw failure(.httpStatus, "HTTP \(status): \(Self.snippet(bytes))", status: status)
            }
            throw failure(.invalidResponse, "not a JSON-RPC response: \(Self.snippet(bytes))", status: status)
        }
        if let error = decoded.error {
            throw JSONRPCError(
                .rpc, method: method, endpoint: name, message: error.message, rpcCode: error.code,
                data: error.data.flatMap(Self.jsonText), httpStatus: status)
        }
        guard (200..<300).contains(status) else {
            throw failure(.httpStatus, "HTTP \(status): \(Self.snippet(bytes))", status: status)
        }
        guard decoded.id == .number(Double(id)) else {
            throw failure(.invalidResponse, "response id \(decoded.id.map { "\($0)" } ?? "missing") does not match request id \(id)", status: status)
        }
        guard let result = decoded.result else {
            throw failure(.invalidResponse, "response has neither result nor error: \(Self.snippet(bytes))", status: status)
        }
        return result
    }

    /// One batch attempt: the results in the order of `calls` (ids firstID, firstID + 1...).
    private func performBatch(
        _ calls: [(method: String, params: [JSONValue])], firstID: Int, label: String, endpoint index: Int
    ) async throws -> [Result<JSONValue, JSONRPCError>] {
        let requests = calls.enumerated().map { RequestBody(id: firstID + $0.offset, method: $0.element.method, params: $0.element.params) }
        let (status, bytes) = try await post(try JSONEncoder().encode(requests), label: label, endpoint: index)
        return try Self.decodeBatchResponse(
            bytes, status: status, firstID: firstID, methods: calls.map(\.method), label: label, endpoint: names[index])
    }

    /// The results of a batch (requests `methods` with ids firstID, firstID + 1...) from the
    /// response `bytes` (HTTP `status`), in request order: exactly one per request, or a
    /// thrown error for the whole batch. Pure (the fuzz target `jsonrpc` calls it).
    package static func decodeBatchResponse(
        _ bytes: ByteBuffer, status: Int, firstID: Int, methods: [String], label: String, endpoint name: String
    ) throws(JSONRPCError) -> [Result<JSONValue, JSONRPCError>] {
        func failure(_ kind: JSONRPCError.Kind, _ message: String, status: Int? = nil) -> JSONRPCError {
            JSONRPCError(kind, method: label, endpoint: name, message: message, httpStatus: status)
        }
        guard let answers = try? JSONDecoder().decode([ResponseBody].self, from: bytes) else {
            // A server without batches answers one error object (-32600 and the like).
            if let single = try? JSONDecoder().decode(ResponseBody.self, from: bytes), let error = single.error {
                throw JSONRPCError(
                    .rpc, method: label, endpoint: name, message: error.message, rpcCode: error.code,
                    data: error.data.flatMap(Self.jsonText), httpStatus: status)
            }
            if !(200..<300).contains(status) {
                throw failure(.httpStatus, "HTTP \(status): \(Self.snippet(bytes))", status: status)
            }
            throw failure(.invalidResponse, "not a JSON-RPC batch response: \(Self.snippet(bytes))", status: status)
        }
        guard (200..<300).contains(status) else {
            throw failure(.httpStatus, "HTTP \(status): \(Self.snippet(bytes))", status: status)
        }
        var results = [Result<JSONValue, JSONRPCError>?](repeating: nil, count: methods.count)
        for answer in answers {
            // The id is the endpoint's: subtracting may overflow (an id of -2^63).
            guard case .number(let number)? = answer.id, let id = Int(exactly: number),
                case (let position, false) = id.subtractingReportingOverflow(firstID),
                results.indices.contains(position), results[position] == nil
            else {
                throw failure(.invalidResponse, "batch answer with an unknown or repeated id: \(answer.id.map { "\($0)" } ?? "missing")", status: status)
            }
            let method = methods[position]
            if let error = answer.error {
                results[position] = .failure(
                    JSONRPCError(
                        .rpc, method: method, endpoint: name, message: error.message, rpcCode: error.code,
                        data: error.data.flatMap(Self.jsonText), httpStatus: status))
            } else if let result = answer.result {
                results[position] = .success(result)
            } else {
                throw failure(.invalidResponse, "batch answer \(method) has neither result nor error", status: status)
            }
        }
        guard let missing = results.firstIndex(where: { $0 == nil }) else { return results.map { $0! } }
        throw failure(.invalidResponse, "batch answer lacks \(methods[missing]) (id \(firstID + missing))", status: status)
    }

    /// POSTs `body`; the status and the whole response body, or a transport, timeout,
    /// too-large or 429 error.
    private func post(_ body: Data, label: String, endpoint index: Int) async throws -> (Int, ByteBuffer) {
        let name = names[index]
        func failure(
            _ kind: JSONRPCError.Kind, _ message: String, status: Int? = nil, retryAfter: Duration? = nil
        ) -> JSONRPCError {
            JSONRPCError(kind, method: label, endpoint: name, message: message, httpStatus: status, retryAfter: retryAfter)
        }
        var request = HTTPClientRequest(url: configuration.endpoints[index].absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(data: body))

        let status: Int
        let bytes: ByteBuffer
        let retryAfterHeader: String?
        do {
            let response = try await httpClient.execute(request, timeout: Self.timeAmount(configuration.timeout), logger: logger)
            status = Int(response.status.code)
            retryAfterHeader = response.headers.first(name: "Retry-After")
            bytes = try await response.body.collect(upTo: configuration.maxResponseBytes)
        } catch let error as HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                throw failure(.timeout, "no answer within \(configuration.timeout)")
            }
            throw failure(.transport, "\(error)")
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as NIOTooManyBytesError {
            throw failure(.invalidResponse, "response larger than \(configuration.maxResponseBytes) bytes (\(error))")
        } catch {
            throw failure(.transport, "\(error)")
        }
        if status == 429 {
            let retryAfter = retryAfterHeader.flatMap(Self.parseRetryAfter)
            throw failure(.rateLimited, "HTTP 429 Too Many Requests", status: status, retryAfter: retryAfter)
        }
        return (status, bytes)
    }

    // MARK: helpers

    private struct RequestBody: Encodable {
        let jsonrpc = "2.0"
        let id: Int
        let method: String
        let params: [JSONValue]
    }

    private struct ErrorObject: Decodable {
        let code: Int
        let message: String
        let data: JSONValue?
    }

    private struct ResponseBody: Decodable {
        let id: JSONValue?
        /// Present (possibly `.null`) when the member exists, nil when it is missing.
        let result: JSONValue?
        let error: ErrorObject?

        enum CodingKeys: String, CodingKey { case jsonrpc, id, result, error }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            guard try container.decodeIfPresent(String.self, forKey: .jsonrpc) == "2.0" else {
                throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.jsonrpc], debugDescription: "jsonrpc is not \"2.0\""))
            }
            id = try container.decodeIfPresent(JSONValue.self, forKey: .id)
            result = container.contains(.result) ? try container.decode(JSONValue.self, forKey: .result) : nil
            error = try container.decodeIfPresent(ErrorObject.self, forKey: .error)
        }
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Retry-After: delta-seconds (RFC 9110 10.2.3); an HTTP-date counts as 1 s.
    static func parseRetryAfter(_ value: String) -> Duration? {
        if let seconds = Int(value.trimmingCharacters(in: .whitespaces)), seconds >= 0 {
            return .seconds(seconds)
        }
        return value.isEmpty ? nil : .seconds(1)
    }

    private static func snippet(_ buffer: ByteBuffer) -> String {
        let text = String(buffer: buffer)
        return text.count > 200 ? String(text.prefix(200)) + "..." : text
    }

    private static func jsonText(_ value: JSONValue) -> String? {
        if case .string(let s) = value { return s }
        guard let data = try? JSONEncoder().encode(value) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// scheme://host:port of an endpoint: URLs of hosted RPCs carry API keys in the path.
    public static func redacted(_ url: URL) -> String {
        var text = "\(url.scheme ?? "http")://\(url.host ?? "?")"
        if let port = url.port { text += ":\(port)" }
        return text
    }
}
