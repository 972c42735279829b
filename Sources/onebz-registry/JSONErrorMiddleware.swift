import Hummingbird
import NodeRegistry

/// Turns errors that escape the handlers (unknown path or method, Hummingbird's own
/// HTTP errors) into the API's JSON `{error, detail}` body.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do { return try await next(request, context) } catch let e as any HTTPResponseError {
            let status = Int(e.status.code)
            let code = status == 404 ? "not_found" : "http_\(status)"
            return RegistryRoutes.json(
                status, RegistryErrorBody(error: code, detail: "\(request.method) \(request.uri.path): \(e.status.reasonPhrase)"))
        }
    }
}
