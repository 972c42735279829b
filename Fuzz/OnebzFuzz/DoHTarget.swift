import DNSEngine
import HTTPGateway
import HummingbirdCore

/// DoH GET (RFC 8484 4.1) as the gateway reads it: the input is the query string of
/// `GET /dns-query?...`, parsed by Hummingbird's `URI` (what `request.uri.queryParameters`
/// does), its `dns` parameter decoded by `Base64URL.decode` (the function DoHEndpoint.get
/// calls), the message answered by the engine as DoHEndpoint.answer does (TCP rules, no
/// UDP size limit). The endpoint itself runs inside Hummingbird's router (async, with a
/// request context), so the target calls the same functions in the same order instead.
/// Invariants:
/// - a decoded parameter has exactly floor(6n/8) bytes for n base64url characters and
///   re-encodes (unpadded, alphabet only) to text that decodes to the same bytes;
/// - the engine's response to it decodes, is a response, echoes the ID, fits a TCP frame.
enum DoHTarget {
    static func run(_ bytes: [UInt8]) {
        let query = String(decoding: bytes, as: UTF8.self)
        let uri = URI("/dns-query?" + query)
        guard let parameter = uri.queryParameters["dns"] else { return }
        guard let message = Base64URL.decode(parameter) else { return }

        var characters = Array(parameter.utf8)
        while characters.last == UInt8(ascii: "=") { characters.removeLast() }
        precondition(message.count == characters.count * 6 / 8, "\(characters.count) characters decoded to \(message.count) bytes")
        let encoded = Base64URL.encode(message)
        precondition(!encoded.contains("="), "padding in \(encoded)")
        precondition(encoded.utf8.count == (message.count * 8 + 5) / 6, "encoding of \(message.count) bytes is \(encoded.utf8.count) long")
        precondition(Base64URL.decode(encoded) == message, "base64url round trip: \(message) -> \(encoded)")

        // DoHEndpoint.get: empty and over-long messages are refused before the engine.
        guard !message.isEmpty, message.count <= 65535 else { return }
        FuzzChecks.engine(message, transports: [.tcp])
    }
}
