import Foundation
import Hummingbird
import Logging
import NIOCore
import NodeRegistry

/// The HTTP API (docs/registry.md). Handlers parse and check input, ask the chain when a
/// rule needs it, and hand one transaction to the `Store`; every refusal is a JSON
/// `{error, detail}` with a 4xx status (503 when the chain cannot be asked).
struct RegistryRoutes: Sendable {
    let store: Store
    let chain: any ChainNodeSource
    let maxBodyBytes: Int
    let clock: @Sendable () -> Int64

    func build() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.get("/healthz") { _, _ in Self.json(200, ["status": "ok"]) }
        router.get("/v1/nodes/by-hash/{hash}") { _, context in
            await Self.handle { try await getByHash(context.parameters.get("hash") ?? "") }
        }
        // Before `/v1/nodes/{node_id}`: "export" is no node id.
        router.get("/v1/nodes/export") { request, _ in await Self.handle { try await export(request) } }
        router.get("/v1/nodes/by-name/{name}") { _, context in
            await Self.handle { try await getByName(context.parameters.get("name") ?? "") }
        }
        router.get("/v1/nodes/{node_id}") { _, context in
            await Self.handle { try await get(context.parameters.get("node_id") ?? "") }
        }
        router.put("/v1/nodes/{node_id}") { request, context in
            await Self.handle { try await put(context.parameters.get("node_id") ?? "", request) }
        }
        router.post("/v1/verify") { request, _ in await Self.handle { try await heartbeat(request) } }
        router.post("/v1/endorse") { request, _ in await Self.handle { try await endorse(request) } }
        router.get("/v1/changes") { request, _ in await Self.handle { try await changes(request) } }
        return router
    }

    // MARK: Handlers

    func get(_ id: String) async throws -> Response {
        guard NodeID(hex: id) != nil else { throw APIError.badRequest("invalid_node_id", RecordError.invalidNodeID.description) }
        guard let e = try await store.entry(nodeID: id) else { throw APIError.notFound("no record for node \(id)") }
        return Self.json(200, e)
    }

    func getByHash(_ text: String) async throws -> Response {
        guard text.hasPrefix("0x") || text.utf8.count == 64, let hash = NodeHash(hex: text) else {
            throw APIError.badRequest("invalid_node_hash", "nodeHash must be 0x + 64 hex digits")
        }
        guard let e = try await store.entry(nodeHash: hash) else { throw APIError.notFound("no record for nodeHash \(hash)") }
        return Self.json(200, e)
    }

    func getByName(_ text: String) async throws -> Response {
        let name = text.lowercased()
        guard !name.isEmpty, name.utf8.count <= 253, name.hasSuffix(".1bz") else {
            throw APIError.badRequest("invalid_name", "name must be a registered .1bz name, e.g. shashi.1bz")
        }
        guard let registration = try await store.registration(dnsName: name) else {
            throw APIError.notFound("no record for name \(name)")
        }
        guard let e = registration.entry else { throw APIError.noRecord(name: name, nodeHash: registration.nodeHash) }
        return Self.json(200, e)
    }

    func put(_ id: String, _ request: Request) async throws -> Response {
        guard NodeID(hex: id) != nil else { throw APIError.badRequest("invalid_node_id", RecordError.invalidNodeID.description) }
        let record = try await parse(request, RegistryRequestBody.record)
        guard record.nodeID == id else {
            throw APIError.badRequest("node_id_mismatch", "body node_id \(record.nodeID) differs from the URL's \(id)")
        }
        let verified: VerifiedNodeMetadata
        do { verified = try record.verify() } catch { throw APIError.record(error) }
        // Registered on chain: the registry's chain view answers when it has the node
        // registered (registration is permanent in the contract, and a reorg makes the
        // view re-read every node), so record updates cost no eth_call; a node the view
        // does not know registered yet (its first record, or the follower is behind) is
        // read live with nodes(nodeHash), and that state is saved with the record.
        do {
            return Self.json(200, try await store.put(verified, freshChain: nil, now: clock()))
        } catch is Store.NotRegisteredInView {
            let state = try await chainState(verified.nodeHash)
            guard state.registered else {
                throw APIError.forbidden("unregistered", "node \(id) (nodeHash \(verified.nodeHash)) is not registered on chain")
            }
            return Self.json(200, try await store.put(verified, freshChain: state, now: clock()))
        }
    }

    func heartbeat(_ request: Request) async throws -> Response {
        let hb = try await parse(request, RegistryRequestBody.heartbeat)
        guard NodeID(hex: hb.nodeID) != nil else { throw APIError.badRequest("invalid_node_id", RecordError.invalidNodeID.description) }
        // Checked here, not in the single writer: bogus heartbeats queue no writes.
        try Store.checkSkew(hb.timestamp, now: clock())
        guard let key = try await store.publicKey(nodeID: hb.nodeID) else {
            throw APIError.notFound("node \(hb.nodeID) has no record here; publish one first")
        }
        // The key is stored under its own id (a record's id is checked when it is put).
        do { try hb.verifySignature(withKeyOfNode: key) } catch { throw APIError.record(error) }
        return Self.json(200, try await store.heartbeat(hb, now: clock()))
    }

    func endorse(_ request: Request) async throws -> Response {
        let e = try await parse(request, RegistryRequestBody.endorsement)
        guard let target = NodeID(hex: e.nodeID), let endorser = NodeID(hex: e.endorser) else {
            throw APIError.badRequest("invalid_node_id", RecordError.invalidNodeID.description)
        }
        guard target != endorser else { throw APIError.badRequest("self_endorsement", "a node cannot endorse itself") }
        try Store.checkSkew(e.timestamp, now: clock())
        guard let key = try await store.publicKey(nodeID: e.endorser) else {
            throw APIError.forbidden("unknown_endorser", "endorser \(e.endorser) has no record here; publish one first")
        }
        do { try e.verify(endorserKey: key) } catch { throw APIError.record(error) }
        for id in [endorser, target] {
            let state = try await chainState(id.nodeHash)
            guard state.registered else { throw APIError.forbidden("unregistered", "node \(id) is not registered on chain") }
            // Whether the endorser counts is decided from this fresh state (Trust.countsAsEndorser).
            if id == endorser { try await store.updateChain(id.nodeHash, state, now: clock()) }
        }
        return Self.json(200, try await store.endorse(e, now: clock()))
    }

    func changes(_ request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        let since = try q.get("since").map { s -> Int64 in
            guard let v = Int64(s), v >= 0 else { throw APIError.badRequest("invalid_cursor", "since must be a non-negative integer") }
            return v
        } ?? 0
        let limit = try q.get("limit").map { s -> Int in
            guard let v = Int(s), (1...1000).contains(v) else { throw APIError.badRequest("invalid_limit", "limit must be 1...1000") }
            return v
        } ?? 1000
        return Self.json(200, try await store.changes(since: since, limit: limit))
    }

    /// `GET /v1/nodes/export?after=<nodeHash>&limit=<n>`: every entry, as the per-node
    /// GETs serve them, in node-hash order (a bulk read for a cold start).
    func export(_ request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        let after = try q.get("after").map { s -> NodeHash in
            guard let hash = NodeHash(hex: s) else {
                throw APIError.badRequest("invalid_cursor", "after must be a node hash (0x + 64 hex digits)")
            }
            return hash
        }
        let limit = try q.get("limit").map { s -> Int in
            guard let v = Int(s), (1...NodeExportPage.maxLimit).contains(v) else {
                throw APIError.badRequest("invalid_limit", "limit must be 1...\(NodeExportPage.maxLimit)")
            }
            return v
        } ?? NodeExportPage.maxLimit
        return Self.json(200, try await store.export(after: after, limit: limit))
    }

    // MARK: Helpers

    private func chainState(_ hash: NodeHash) async throws -> ChainNodeState {
        do { return try await chain.node(hash) } catch {
            throw APIError.chainUnavailable("cannot read nodes(\(hash)) from the chain: \(error)")
        }
    }

    /// Reads the body (bounded) and hands it to a pure parser.
    private func parse<T>(
        _ request: Request, _ parser: ([UInt8]) throws(RegistryBodyError) -> T
    ) async throws -> T {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBodyBytes {
            throw Self.tooLarge(maxBodyBytes)
        }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: maxBodyBytes) } catch is NIOTooManyBytesError {
            throw Self.tooLarge(maxBodyBytes)
        }
        do throws(RegistryBodyError) { return try parser(Array(buffer.readableBytesView)) } catch {
            throw APIError.badRequest("invalid_json", error.detail)
        }
    }

    private static func tooLarge(_ limit: Int) -> APIError {
        APIError(status: 413, code: "body_too_large", detail: "request body exceeds \(limit) bytes")
    }

    static func handle(_ body: () async throws -> Response) async -> Response {
        do { return try await body() } catch let e as APIError {
            return json(e.status, RegistryErrorBody(error: e.code, detail: e.detail, nodeHash: e.nodeHash))
        } catch {
            return json(500, RegistryErrorBody(error: "internal", detail: "\(error)"))
        }
    }

    /// An entry (every write's answer and every GET's): written by `RegistryJSON`, the
    /// same bytes `JSONEncoder.sorted` writes, without Foundation.
    static func json(_ status: Int, _ entry: RegistryEntry) -> Response {
        Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: RegistryJSON.encode(entry))))
    }

    static func json(_ status: Int, _ value: some Encodable) -> Response {
        let data = (try? JSONEncoder.sorted.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
