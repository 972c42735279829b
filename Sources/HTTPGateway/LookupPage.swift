import Hummingbird
import NIOCore

/// `/`: the browser page (`LookupPage.source`, compiled in).
enum LookupPage {
    static func response() -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .cacheControl: "max-age=300",
                .xContentTypeOptions: "nosniff",
                // The page only talks to this origin; inline script/style are its own.
                .contentSecurityPolicy:
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'self'",
            ],
            body: .init(byteBuffer: html))
    }

    private static let html = ByteBuffer(string: source)
}
