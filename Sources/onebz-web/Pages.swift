import Foundation
import Hummingbird

/// The gateway's own pages: small HTML that says what happened and why, never the node's
/// content. `Onebz-Refusal` carries a short machine-readable reason (tests, scripts).
enum Page {
    static func make(_ status: HTTPResponse.Status, reason: String, title: String, detail: String) -> Response {
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em;color:#222}
            code{background:#f3f3f3;padding:0 .2em}</style></head>
            <body><h1>\(escape(title))</h1><p>\(escape(detail))</p>
            <p><small>onebz-web, a gateway to 1bz nodes that proxies only to a node proving the key its
            DNSSEC-signed zone publishes.</small></p></body></html>

            """
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                HeaderField.Name("Content-Security-Policy")!: "default-src 'none'; style-src 'unsafe-inline'",
                HeaderField.Name("Onebz-Refusal")!: reason,
            ],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// HTTPTypes' `HTTPField`, which Hummingbird uses but does not re-export.
typealias HeaderField = HTTPFields.Element
