import DNSWire
import Foundation
import Hummingbird
import NIOCore
import OneBZResolver

/// `GET /resolve?name=shashi.1bz`: the verified node behind a 1bz name, as JSON
/// (`NodeInfo`). With `&type=A` (or any type name or number) it instead answers in
/// the Google/Cloudflare DNS-JSON shape, from the same engine as DNS and DoH.
struct ResolveEndpoint: Sendable {
    /// Longer than any DNS name in presentation form, even fully escaped.
    static let maxNameLength = 1024

    let engine: QueryEngine
    let nodeLookup: (any NodeLookupService)?

    func handle(_ request: Request) async -> Response {
        let parameters = request.uri.queryParameters
        guard let name = parameters["name"].map(String.init), !name.isEmpty else {
            return Problem.response(.badRequest, "invalid_name", "missing ?name=, e.g. /resolve?name=shashi.1bz")
        }
        guard name.utf8.count <= Self.maxNameLength else {
            return Problem.response(.badRequest, "invalid_name", "the name is too long")
        }
        if let type = parameters["type"] {
            return await DNSJSONAnswer(engine: engine).response(name: name, typeText: String(type))
        }
        guard let nodeLookup else {
            return Problem.response(
                .serviceUnavailable, "not_configured",
                "node lookups are not configured on this server (no chain source); "
                    + "only DNS answers from the static zone are available, e.g. /resolve?name=\(name)&type=A")
        }
        do throws(NodeLookupError) {
            let info = try await nodeLookup.lookupNode(name)
            return Self.json(info, maxAge: info.ttl)
        } catch {
            switch error {
            case .invalidName(let reason):
                return Problem.response(.badRequest, "invalid_name", reason)
            case .notFound:
                return Problem.response(.notFound, "not_found", "no node is registered as \(name)")
            case .unavailable(let reason):
                return Problem.response(.serviceUnavailable, "unavailable", reason)
            }
        }
    }

    static func json(_ value: some Encodable, maxAge: UInt32, contentType: String = "application/json") -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(value) else {
            return Problem.response(.internalServerError, "encoding_failed", "the answer could not be encoded as JSON")
        }
        return Response(
            status: .ok, headers: [.contentType: contentType, .cacheControl: "max-age=\(maxAge)"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
