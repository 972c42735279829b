import DNSEngine
import DNSWire
import Foundation
import Hummingbird
import Logging
import NIOCore
import OneBZResolver

/// `GET /resolve?name=shashi.1bz`: the verified node behind a 1bz name, as JSON
/// (`NodeInfo`). The engine classifies the name first, exactly as for a DNS query: a
/// static name answers its DNS data (DNS-JSON), a name DNS calls nonexistent is 404,
/// and only a node name goes to the chain-backed lookup. With `&type=A` (or any type
/// name or number) it instead answers in the Google/Cloudflare DNS-JSON shape, from the
/// same engine as DNS and DoH.
struct ResolveEndpoint: Sendable {
    /// Longer than any DNS name in presentation form, even fully escaped.
    static let maxNameLength = 1024

    let engine: QueryEngine
    let nodeLookup: (any NodeLookupService)?
    let guards: ResolveGuard

    func handle(_ request: Request, context: GatewayRequestContext) async -> Response {
        // Per client, before anything that may cost an upstream lookup.
        if case .limit(let retryAfter) = guards.admit(context.remoteAddress) {
            var response = Problem.response(
                .tooManyRequests, "rate_limited", "too many /resolve requests from this address; retry after \(retryAfter) s")
            response.headers[.retryAfter] = String(retryAfter)
            return response
        }
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
        // The engine first, as DNS asks it: a name means the same over DNS and JSON.
        let dnsName: Name
        do throws(NodeLookupError) {
            if let nodeLookup {
                dnsName = try nodeLookup.dnsName(forUserText: name)
            } else {
                dnsName = try Self.parse(name)
            }
        } catch {
            return Self.problem(error, name: name, logger: context.logger)
        }
        switch engine.kind(of: dnsName) {
        case .outOfZone:
            return Problem.response(.badRequest, "invalid_name", "\"\(name)\" is not a name in \(engine.zone.apex)")
        case .nonexistent:
            return Problem.response(.notFound, "not_found", "\(name) does not exist (DNS answers NXDOMAIN)")
        case .zoneData:
            // A name of the static zone (or below its delegations) is not a node: it
            // answers what DNS answers for its addresses.
            return await DNSJSONAnswer(engine: engine).response(name: name, typeText: "A")
        case .dynamic:
            break
        }
        guard let nodeLookup else {
            return Problem.response(
                .serviceUnavailable, "not_configured",
                "node lookups are not configured on this server (no chain source); "
                    + "only DNS answers from the static zone are available, e.g. /resolve?name=\(name)&type=A")
        }
        // The absence check DNS makes: the dynamic source's cache lookup answers a name
        // the materialised set does not hold (or a cached negative) from memory.
        switch engine.dynamicSource?.cachedAnswer(name: dnsName, type: .txt) {
        case .nameError?, .signedNameError?:
            return Problem.response(.notFound, "not_found", "no node is registered as \(name)")
        default:
            break
        }
        do throws(NodeLookupError) {
            let info = try await nodeLookup.lookupNode(name)
            if parameters["proof"] == "1" {
                return try await Self.withProof(info, proofBundle(dnsName, name: name, at: info.block, nodeLookup))
            }
            return Self.json(info, maxAge: info.ttl)
        } catch {
            return Self.problem(error, name: name, logger: context.logger)
        }
    }

    /// The proofs at a block never change: read once per (name, block), then cached.
    private func proofBundle(
        _ dnsName: Name, name: String, at block: UInt64, _ nodeLookup: any NodeLookupService
    ) async throws(NodeLookupError) -> [UInt8]? {
        let key = dnsName.lowercased.description
        if let cached = guards.proofBundle(name: key, block: block) { return cached }
        guard let bundle = try await nodeLookup.proofBundle(name, at: block) else { return nil }
        guards.storeProofBundle(bundle, name: key, block: block)
        return bundle
    }

    /// The node's JSON plus `"proof"`: the evidence bundle at the answer's block. Not
    /// cached by clients (max-age 0); the gateway keeps it per (name, block).
    private static func withProof(_ info: NodeInfo, _ bundle: [UInt8]?) -> Response {
        guard let bundle else {
            return Problem.response(
                .notImplemented, "no_proofs", "this server reads the chain without proofs (chain.verify = \"call\")")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let infoJSON = try? encoder.encode(info), infoJSON.last == UInt8(ascii: "}") else {
            return Problem.response(.internalServerError, "encoding_failed", "the answer could not be encoded as JSON")
        }
        // {...info fields..., "proof": bundle}
        let body = Array(infoJSON.dropLast()) + Array(#","proof":"#.utf8) + bundle + [UInt8(ascii: "}")]
        return Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "max-age=0"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private static func parse(_ text: String) throws(NodeLookupError) -> Name {
        do { return try Name(text) } catch { throw .invalidName("\"\(text)\" is not a valid DNS name") }
    }

    private static func problem(_ error: NodeLookupError, name: String, logger: Logger) -> Response {
        switch error {
        case .invalidName(let reason):
            return Problem.response(.badRequest, "invalid_name", reason)
        case .notFound:
            return Problem.response(.notFound, "not_found", "no node is registered as \(name)")
        case .unavailable(let reason):
            // What the upstream said (URLs, error text) goes to the log, not to the client.
            logger.warning("resolve: upstream unavailable", metadata: ["name": "\(name)", "error": "\(reason)"])
            return Problem.response(
                .serviceUnavailable, "unavailable",
                "the chain or the registry could not be reached and nothing is cached; try again shortly")
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
