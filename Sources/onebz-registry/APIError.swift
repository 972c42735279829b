import NodeRegistry

/// A request the registry refuses: HTTP status, machine code and a sentence for humans.
/// Sent as `{"error": code, "detail": detail}`.
struct APIError: Error, CustomStringConvertible {
    let status: Int
    let code: String
    let detail: String
    /// `node_hash` in the body (see RegistryErrorBody).
    var nodeHash: NodeHash? = nil

    var description: String { "\(status) \(code): \(detail)" }

    static func badRequest(_ code: String, _ detail: String) -> APIError { APIError(status: 400, code: code, detail: detail) }
    static func notFound(_ detail: String) -> APIError { APIError(status: 404, code: "not_found", detail: detail) }
    /// The name is registered on chain (as `nodeHash`) but its node published no record.
    static func noRecord(name: String, nodeHash: NodeHash) -> APIError {
        APIError(
            status: 404, code: "no_record", detail: "\(name) is registered as \(nodeHash), which has no record here",
            nodeHash: nodeHash)
    }
    static func conflict(_ code: String, _ detail: String) -> APIError { APIError(status: 409, code: code, detail: detail) }
    static func forbidden(_ code: String, _ detail: String) -> APIError { APIError(status: 403, code: code, detail: detail) }
    static func chainUnavailable(_ detail: String) -> APIError {
        APIError(status: 503, code: "chain_unavailable", detail: detail)
    }

    static func record(_ e: RecordError) -> APIError {
        let status = e == .badSignature || e == .keyDoesNotMatchNodeID ? 403 : 400
        return APIError(status: status, code: e.code, detail: e.description)
    }
}
