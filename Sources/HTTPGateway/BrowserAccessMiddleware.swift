import Hummingbird

/// CORS and method policy for the two API endpoints. Any web page may call them
/// (`Access-Control-Allow-Origin: *`: they are public, read-only and carry no
/// credentials); `OPTIONS` answers the preflight; other methods get 405 with `Allow`
/// instead of the router's 404.
struct BrowserAccessMiddleware<Context: RequestContext>: RouterMiddleware {
    static var allowedMethods: [String: [HTTPRequest.Method]] {
        ["/dns-query": [.get, .post], "/resolve": [.get]]
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let allowed = Self.allowedMethods[request.uri.path] else { return try await next(request, context) }
        let allow = (allowed + [.options]).map(\.rawValue).joined(separator: ", ")
        if request.method == .options {
            return Response(
                status: .noContent,
                headers: [
                    .accessControlAllowOrigin: "*",
                    .accessControlAllowMethods: allow,
                    // RFC 8484 POST needs Content-Type, which is not CORS-safelisted for this media type.
                    .accessControlAllowHeaders: "Content-Type, Accept",
                    .accessControlMaxAge: "86400",
                    .allow: allow,
                ])
        }
        guard allowed.contains(request.method) else {
            var response = Problem.response(
                .methodNotAllowed, "method_not_allowed", "\(request.uri.path) accepts \(allow)")
            response.headers[.allow] = allow
            response.headers[.accessControlAllowOrigin] = "*"
            return response
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = "*"
        return response
    }
}
