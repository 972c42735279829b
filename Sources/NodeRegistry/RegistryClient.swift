import AsyncHTTPClient
import ChainReader
import Foundation
import NIOCore
import NIOHTTP1

/// Client of the onebz-registry HTTP API. Every record it returns has been verified here
/// (key hashes to node_id, signature valid, and it is the node that was asked for):
/// the registry is never trusted with identity or addresses.
public struct RegistryClient: Sendable {
    public let baseURL: String
    public let timeout: Duration
    let transport: Transport
    static let maxResponseBytes = 1 << 20

    /// What carries the requests.
    enum Transport: Sendable {
        /// An AsyncHTTPClient pool; `owned` ones are shut down by `shutdown()`.
        case pool(HTTPClient, owned: Bool)
        /// HTTPS with a pinned key, a connection per request.
        case pinned(PinnedHTTPSClient)
    }

    /// - Parameters:
    ///   - baseURL: e.g. `http://127.0.0.1:8080` (no trailing slash needed).
    ///   - timeout: per request, connect to last byte.
    ///   - httpClient: default: ChainReader's shared pool, which follows no redirects (a
    ///     3xx is an error here, not a request to wherever it points).
    public init(baseURL: String, timeout: Duration = .seconds(2), httpClient: HTTPClient = JSONRPCClient.sharedHTTPClient) {
        self.init(baseURL: baseURL, timeout: timeout, transport: .pool(httpClient, owned: false))
    }

    /// With `tls`, a client of its own that checks the registry's certificate against
    /// the CA file and/or the pin (and follows no redirects either); call `shutdown()`
    /// when done. Without, the shared pool (system roots for `https://`).
    public init(baseURL: String, timeout: Duration = .seconds(2), tls: RegistryTLS?) {
        guard let tls else {
            self.init(baseURL: baseURL, timeout: timeout)
            return
        }
        if let pin = tls.pin {
            let client = PinnedHTTPSClient(
                context: tls.context, pin: pin, group: HTTPClient.defaultEventLoopGroup, maxResponseBytes: Self.maxResponseBytes)
            self.init(baseURL: baseURL, timeout: timeout, transport: .pinned(client))
        } else {
            var configuration = JSONRPCClient.sharedHTTPConfiguration
            configuration.tlsConfiguration = tls.configuration
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            self.init(baseURL: baseURL, timeout: timeout, transport: .pool(client, owned: true))
        }
    }

    private init(baseURL: String, timeout: Duration, transport: Transport) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeout = timeout
        self.transport = transport
    }

    /// Shuts down a client of its own (made for `tls`); the shared pool is left alone.
    /// Every copy of this client shares the pool: call it once, when all are done.
    public func shutdown() async {
        if case .pool(let client, owned: true) = transport { try? await client.shutdown() }
    }

    /// The node's verified entry; `.notFound` when the registry has no record.
    public func fetch(nodeId: NodeID) async throws(RegistryClientError) -> VerifiedRegistryEntry {
        try await get(RegistryEntry.self, "/v1/nodes/\(nodeId.hex)").verified(expected: nodeId)
    }

    /// The entry of the node with this on-chain hash (verified: its node_id hashes to `nodeHash`).
    public func fetch(nodeHash: NodeHash) async throws(RegistryClientError) -> VerifiedRegistryEntry {
        try await get(RegistryEntry.self, "/v1/nodes/by-hash/\(nodeHash.hex)").verified(nodeHash: nodeHash)
    }

    /// A page of every entry the registry holds, in node-hash order after `after` (nil:
    /// the first page). Entries are NOT verified here: check each with
    /// `RegistryEntry.verified(nodeHash:)`, as `fetch(nodeHash:)` does.
    public func export(after: NodeHash?, limit: Int = NodeExportPage.maxLimit) async throws(RegistryClientError) -> NodeExportPage {
        let cursor = after.map { "&after=\($0.hex)" } ?? ""
        return try await perform(
            NodeExportPage.self, RegistryRequest(url: baseURL + "/v1/nodes/export?limit=\(limit)" + cursor),
            maxBytes: Self.maxExportBytes)
    }

    /// A full export page (2,000 entries of ~0.8 KB) is larger than any other answer.
    static let maxExportBytes = 16 << 20

    /// The entry of the node the registry believes holds `name` (checked record; the
    /// caller must still compare its node hash with the chain's, which is the authority
    /// on names). Lets a resolver fetch metadata concurrently with the chain lookup.
    public func fetch(name: String) async throws(RegistryClientError) -> VerifiedRegistryEntry {
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? name
        return try await get(RegistryEntry.self, "/v1/nodes/by-name/\(encoded)").verified(expected: nil)
    }

    /// Node ids whose record or trust changed after `since` (0 = from the start).
    public func changes(since: UInt64, limit: Int = 1000) async throws(RegistryClientError) -> ChangePage {
        try await get(ChangePage.self, "/v1/changes?since=\(since)&limit=\(limit)")
    }

    /// Publishes a signed record (`PUT /v1/nodes/{node_id}`); returns the stored entry.
    public func publish(_ record: NodeMetadata) async throws(RegistryClientError) -> RegistryEntry {
        try await send(RegistryEntry.self, .PUT, "/v1/nodes/\(record.nodeID)", record)
    }

    /// Sends a signed heartbeat (`POST /v1/verify`); returns the node's entry after it.
    public func heartbeat(_ heartbeat: Heartbeat) async throws(RegistryClientError) -> RegistryEntry {
        try await send(RegistryEntry.self, .POST, "/v1/verify", heartbeat)
    }

    /// Sends a signed endorsement (`POST /v1/endorse`); returns the endorsed node's entry.
    public func endorse(_ endorsement: Endorsement) async throws(RegistryClientError) -> RegistryEntry {
        try await send(RegistryEntry.self, .POST, "/v1/endorse", endorsement)
    }

    // MARK: - Plumbing

    private func get<T: Decodable>(_ type: T.Type, _ path: String) async throws(RegistryClientError) -> T {
        try await perform(T.self, RegistryRequest(url: baseURL + path))
    }

    private func send<T: Decodable>(
        _ type: T.Type, _ method: HTTPMethod, _ path: String, _ body: some Encodable
    ) async throws(RegistryClientError) -> T {
        let data: Data
        do { data = try JSONEncoder().encode(body) } catch {
            throw RegistryClientError(kind: .rejected, detail: "cannot encode request: \(error)")
        }
        return try await perform(
            T.self, RegistryRequest(method: method, url: baseURL + path, body: ByteBuffer(bytes: data)))
    }

    private func perform<T: Decodable>(
        _ type: T.Type, _ request: RegistryRequest, maxBytes: Int = maxResponseBytes
    ) async throws(RegistryClientError) -> T {
        let response: RegistryResponse
        do { response = try await exchange(request, maxBytes: maxBytes) } catch {
            throw RegistryClientError(kind: .unavailable, detail: "\(request.url): \(error)")
        }
        let (status, body) = (response.status, response.body)
        let bytes = Data(body.readableBytesView)
        switch status {
        case 200..<300:
            do { return try JSONDecoder().decode(T.self, from: bytes) } catch {
                throw RegistryClientError(kind: .malformed, detail: "undecodable body: \(error)", status: status)
            }
        case 410 where (try? JSONDecoder().decode(RegistryErrorBody.self, from: bytes))?.error == "resync":
            throw RegistryClientError(kind: .resync, detail: errorDetail(bytes), status: status)
        case 300..<400:
            throw RegistryClientError(kind: .unavailable, detail: "HTTP \(status) redirect (not followed)", status: status)
        case 404:
            let hash = (try? JSONDecoder().decode(RegistryErrorBody.self, from: bytes))?.nodeHash
            throw RegistryClientError(
                kind: .notFound, detail: errorDetail(bytes), status: status, registeredNodeHash: hash)
        case 400..<500:
            throw RegistryClientError(kind: .rejected, detail: errorDetail(bytes), status: status)
        default:
            throw RegistryClientError(kind: .unavailable, detail: errorDetail(bytes), status: status)
        }
    }

    private func errorDetail(_ body: Data) -> String {
        if let e = try? JSONDecoder().decode(RegistryErrorBody.self, from: body) { return "\(e.error): \(e.detail)" }
        return String(decoding: body.prefix(200), as: UTF8.self)
    }
}

extension RegistryClient {
    fileprivate func exchange(_ request: RegistryRequest, maxBytes: Int) async throws -> RegistryResponse {
        switch transport {
        case .pool(let http, _):
            var outgoing = HTTPClientRequest(url: request.url)
            outgoing.method = request.method
            if let body = request.body {
                outgoing.headers.add(name: "Content-Type", value: "application/json")
                outgoing.body = .bytes(body)
            }
            let response = try await http.execute(outgoing, timeout: TimeAmount(timeout))
            let body = try await response.body.collect(upTo: maxBytes)
            return RegistryResponse(status: Int(response.status.code), body: body)
        case .pinned(let client):
            return try await client.execute(request, timeout: TimeAmount(timeout), maxBytes: maxBytes)
        }
    }
}

extension TimeAmount {
    init(_ d: Duration) {
        let (s, atto) = d.components
        self = .nanoseconds(s * 1_000_000_000 + atto / 1_000_000_000)
    }
}

extension RegistryEntry {
    /// The checks every entry the client hands out passed: the record's key hashes to its
    /// node_id and signs it, it is the node asked for (`expected`), the trust is in range.
    public func verified(expected: NodeID?) throws(RegistryClientError) -> VerifiedRegistryEntry {
        let m: VerifiedNodeMetadata
        do { m = try record.verify() } catch {
            throw RegistryClientError(kind: .invalidResponse, detail: "record fails verification: \(error)")
        }
        if let expected, m.nodeID != expected {
            throw RegistryClientError(kind: .invalidResponse, detail: "asked for \(expected), got \(m.nodeID)")
        }
        guard (0...100).contains(trust) else {
            throw RegistryClientError(kind: .invalidResponse, detail: "trust \(trust) out of 0...100")
        }
        return VerifiedRegistryEntry(
            metadata: m, trust: trust, tier: tier, registered: registered, verified: verified,
            stakeWei: stakeWei, updatedAt: updatedAt, lastHeartbeat: lastHeartbeat)
    }

    /// `verified(expected:)` for the node with on-chain hash `nodeHash` (by-hash GETs, the export).
    public func verified(nodeHash: NodeHash) throws(RegistryClientError) -> VerifiedRegistryEntry {
        let v = try verified(expected: nil)
        guard v.metadata.nodeHash == nodeHash else {
            throw RegistryClientError(kind: .invalidResponse, detail: "record's node_id does not hash to \(nodeHash)")
        }
        return v
    }
}
