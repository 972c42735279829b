import DNSEngine
import DNSWire
import Hummingbird
import NIOCore

/// DNS over HTTPS, RFC 8484: `GET /dns-query?dns=<base64url>` and `POST /dns-query`
/// with an `application/dns-message` body. The answer is what the engine gives a TCP
/// client (DoH is not bound by the UDP size limit), byte for byte; the ID is echoed
/// (RFC 8484 4.1: clients should send 0).
public struct DoHEndpoint: Sendable {
    static let mediaType = "application/dns-message"
    /// RFC 8484 6 / RFC 1035 4.2.2: a DNS message is at most 65535 bytes.
    public static let maxMessageSize = 65535

    let engine: QueryEngine
    let metrics: GatewayMetrics

    func get(_ request: Request, context: GatewayRequestContext) async -> Response {
        do throws(DoHParameterError) {
            let bytes = try Self.parseDNSParameter(request.uri.queryParameters["dns"].map(String.init))
            return await answer(ByteBuffer(bytes: bytes), from: context.remoteAddress)
        } catch {
            return Problem.response(error.status, error.code, error.detail)
        }
    }

    /// The `dns` parameter of a GET (already percent-decoded) to the DNS message bytes:
    /// a pure function, so fuzz targets call what the endpoint calls.
    public static func parseDNSParameter(_ parameter: String?) throws(DoHParameterError) -> [UInt8] {
        guard let parameter else {
            throw DoHParameterError(
                status: .badRequest, code: "missing_dns",
                detail: "GET /dns-query needs ?dns=<base64url DNS message> (RFC 8484 4.1)")
        }
        guard let bytes = Base64URL.decode(Substring(parameter)), !bytes.isEmpty else {
            throw DoHParameterError(
                status: .badRequest, code: "invalid_dns", detail: "?dns= is not base64url without padding (RFC 8484 4.1)")
        }
        guard bytes.count <= maxMessageSize else {
            throw DoHParameterError(
                status: .contentTooLarge, code: "too_large", detail: "a DNS message is at most 65535 bytes")
        }
        return bytes
    }

    func post(_ request: Request, context: GatewayRequestContext) async -> Response {
        guard Self.isDNSMessage(request.headers[.contentType]) else {
            return Problem.response(
                .unsupportedMediaType, "unsupported_media_type",
                "POST /dns-query needs Content-Type: \(Self.mediaType) (RFC 8484 4.1)")
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > Self.maxMessageSize {
            return Problem.response(.contentTooLarge, "too_large", "a DNS message is at most 65535 bytes")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maxMessageSize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return Problem.response(.contentTooLarge, "too_large", "a DNS message is at most 65535 bytes")
        } catch {
            return Problem.response(.badRequest, "bad_body", "the request body could not be read")
        }
        return await answer(body, from: context.remoteAddress)
    }

    /// Runs the query through the engine (resolving a dynamic name first if asked); the
    /// rcode and the cache lifetime come from the engine's plan, not from decoding.
    func answer(_ query: ByteBuffer, from peer: SocketAddress?) async -> Response {
        let context = engine.context(for: peer.flatMap(ClientAddress.init))
        let response = await engine.respondResolving(
            to: query, transport: .tcp, allocator: ByteBufferAllocator(), context: context)
        guard let response else {
            return Problem.response(.badRequest, "not_a_query", "the body is not a DNS query message")
        }
        metrics.countDNS(rcode: response.rcode)
        // The engine answers FORMERR to malformed queries; over HTTP that is a client error.
        if response.rcode == .formErr {
            return Problem.response(.badRequest, "malformed_query", "the DNS query is malformed (FORMERR)")
        }
        return Response(
            status: .ok,
            headers: [.contentType: Self.mediaType, .cacheControl: "max-age=\(response.cacheTTL)"],
            body: .init(byteBuffer: response.bytes))
    }

    /// `application/dns-message`, parameters and case ignored.
    static func isDNSMessage(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let media = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return media.trimmingCharacters(in: .whitespaces).lowercased() == mediaType
    }
}

/// Why a DoH GET's `dns` parameter was refused: the HTTP status and the JSON error.
public struct DoHParameterError: Error, Hashable {
    public let status: HTTPResponse.Status
    public let code: String
    public let detail: String
}
