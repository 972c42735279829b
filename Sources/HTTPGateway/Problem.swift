import Foundation
import Hummingbird
import NIOCore

/// The JSON error body every endpoint uses: `{"error": "<code>", "detail": "<what to do>"}`
/// (the same shape as the registry's errors, docs/design.md#registry).
enum Problem {
    static func response(_ status: HTTPResponse.Status, _ error: String, _ detail: String) -> Response {
        let body = (try? encoder.encode(["error": error, "detail": detail])) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
