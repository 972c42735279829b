import Hummingbird

/// Counts every request by endpoint and status and times it (see `GatewayMetrics`).
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: GatewayMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let endpoint = GatewayMetrics.endpoint(path: request.uri.path)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let response = try await next(request, context)
            metrics.countRequest(endpoint: endpoint, status: response.status.code, duration: clock.now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.countRequest(endpoint: endpoint, status: status, duration: clock.now - start)
            throw error
        }
    }
}
