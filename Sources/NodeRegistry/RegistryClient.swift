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
    let http: HTTPClient
    static let maxResponseBytes = 1 << 20

    /// - Parameters:
    ///   - baseURL: e.g. `http://127.0.0.1:8080` (no trailing slash needed).
    ///   - timeout: per request, connect to last byte.
    ///   - httpClient: default: ChainReader's shared pool, which follows no redirects (a
    ///     3xx is an error here, not a request to wherever it points).
    public init(baseURL: String, timeout: Duration = .seconds(2), httpClient: HTTPClient = JSONRPCClient.sharedHTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeout = timeout
        self.http = httpClient
    }

    /// The node's verified entry; `.notFound` when the registry has no record.
    public func fetch(nodeId: NodeID) async throws(RegistryClientError) -> VerifiedRegistryEntry {
        try verified(await get(RegistryEntry.self, "/v1/nodes/\(nodeId.hex)"), expected: nodeId)
    }

    /// The entry of the node with this on-chain hash (verified: its node_id hashes to `nodeHash`).
    public func fetch(nodeHash: NodeHash) async throws(RegistryClientError) -> VerifiedRegistryEntry {
        let entry = try await get(RegistryEntry.self, "/v1/nodes/by-hash/\(nodeHash.hex)")
        let v = try verified(entry, expected: nil)
        guard v.metadata.nodeHash == nodeHash else {
            throw RegistryClientError(kind: .invalidResponse, detail: "record's node_id does not hash to \(nodeHash)")
        }
        return v
    }

    /// The entry of the node the registry believes holds `name` (checked record; the
    /// caller must still compare its node hash with the chain's, which is the authority
    /// on names). Lets a resolver fetch metadata concurrently with the chain lookup.
    public func fetch(name: String) async throws(RegistryClientError) -> VerifiedRegistryEntry {
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? name
        return try verified(await get(RegistryEntry.self, "/v1/nodes/by-name/\(encoded)"), expected: nil)
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

    private func verified(_ e: RegistryEntry, expected: NodeID?) throws(RegistryClientError) -> VerifiedRegistryEntry {
        let m: VerifiedNodeMetadata
        do { m = try e.record.verify() } catch {
            throw RegistryClientError(kind: .invalidResponse, detail: "record fails verification: \(error)")
        }
        if let expected, m.nodeID != expected {
            throw RegistryClientError(kind: .invalidResponse, detail: "asked for \(expected), got \(m.nodeID)")
        }
        guard (0...100).contains(e.trust) else {
            throw RegistryClientError(kind: .invalidResponse, detail: "trust \(e.trust) out of 0...100")
        }
        return VerifiedRegistryEntry(
            metadata: m, trust: e.trust, tier: e.tier, registered: e.registered, verified: e.verified,
            stakeWei: e.stakeWei, updatedAt: e.updatedAt, lastHeartbeat: e.lastHeartbeat)
    }

    private func get<T: Decodable>(_ type: T.Type, _ path: String) async throws(RegistryClientError) -> T {
        try await perform(T.self, HTTPClientRequest(url: baseURL + path))
    }

    private func send<T: Decodable>(
        _ type: T.Type, _ method: HTTPMethod, _ path: String, _ body: some Encodable
    ) async throws(RegistryClientError) -> T {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        let data: Data
        do { data = try JSONEncoder().encode(body) } catch {
            throw RegistryClientError(kind: .rejected, detail: "cannot encode request: \(error)")
        }
        request.body = .bytes(ByteBuffer(bytes: data))
        return try await perform(T.self, request)
    }

    private func perform<T: Decodable>(_ type: T.Type, _ request: HTTPClientRequest) async throws(RegistryClientError) -> T {
        let status: Int
        let body: ByteBuffer
        do {
            let response = try await http.execute(request, timeout: TimeAmount(timeout))
            status = Int(response.status.code)
            body = try await response.body.collect(upTo: Self.maxResponseBytes)
        } catch {
            throw RegistryClientError(kind: .unavailable, detail: "\(request.url): \(error)")
        }
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

extension TimeAmount {
    init(_ d: Duration) {
        let (s, atto) = d.components
        self = .nanoseconds(s * 1_000_000_000 + atto / 1_000_000_000)
    }
}
