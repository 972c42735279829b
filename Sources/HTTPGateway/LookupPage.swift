import Foundation
import Hummingbird
import NIOCore

/// `/`: the browser page (Resources/index.html), read from the bundle once.
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

    private static let html: ByteBuffer = {
        guard let url = Bundle.module.url(forResource: "index", withExtension: "html"),
            let data = try? Data(contentsOf: url)
        else {
            return ByteBuffer(string: "<!doctype html><title>1bz</title><p>index.html is missing from this build.</p>")
        }
        return ByteBuffer(bytes: data)
    }()
}
