import DNSEngine
import DNSWire
import Hummingbird
import NIOCore

/// The JSON DNS shape of Google Public DNS and Cloudflare (`application/dns-json`):
/// `{Status, TC, RD, RA, AD, CD, Question:[{name,type}], Answer:[{name,type,TTL,data}]}`,
/// built from the engine's answer (its plan's rcode and lifetime, its records), so it
/// says exactly what DNS says.
struct DNSJSONAnswer: Sendable {
    let engine: QueryEngine

    struct Body: Encodable {
        struct QuestionEntry: Encodable {
            var name: String
            var type: UInt16
        }
        struct RecordEntry: Encodable {
            var name: String
            var type: UInt16
            var TTL: UInt32
            var data: String
        }
        var Status: UInt16
        var TC, RD, RA, AD, CD: Bool
        var Question: [QuestionEntry]
        var Answer: [RecordEntry]?
        var Authority: [RecordEntry]?
    }

    func response(name text: String, typeText: String) async -> Response {
        guard let name = try? Name(text) else {
            return Problem.response(.badRequest, "invalid_name", "'\(text)' is not a domain name")
        }
        guard let type = Self.parseType(typeText) else {
            return Problem.response(.badRequest, "invalid_type", "type '\(typeText)' is not a record type name or number")
        }
        var query = Message()
        query.questions = [Question(name: name, type: type)]
        guard let wire = try? query.encoded() else {
            return Problem.response(.badRequest, "invalid_name", "'\(text)' does not fit in a DNS query")
        }
        let response = await engine.respondResolving(
            to: ByteBuffer(bytes: wire), transport: .tcp, allocator: ByteBufferAllocator())
        // The records are decoded for their presentation form; rcode and lifetime are
        // the plan's.
        guard let response, let message = try? Message(decoding: Array(response.bytes.readableBytesView)) else {
            return Problem.response(.internalServerError, "no_answer", "the DNS engine gave no answer")
        }
        return ResolveEndpoint.json(
            Self.body(message, rcode: response.rcode), maxAge: response.cacheTTL, contentType: "application/dns-json")
    }

    static func body(_ message: Message, rcode: Rcode) -> Body {
        let header = message.header
        func entries(_ records: [ResourceRecord]) -> [Body.RecordEntry]? {
            records.isEmpty
                ? nil
                : records.map {
                    Body.RecordEntry(
                        name: $0.name.description, type: $0.type.rawValue, TTL: $0.ttl,
                        data: RDATAPresentation.text(type: $0.type, rdata: $0.rdata))
                }
        }
        return Body(
            Status: rcode.rawValue, TC: header.truncated, RD: header.recursionDesired,
            RA: header.recursionAvailable, AD: header.authenticData, CD: header.checkingDisabled,
            Question: message.questions.map { Body.QuestionEntry(name: $0.name.description, type: $0.type.rawValue) },
            Answer: entries(message.answers), Authority: entries(message.authorities))
    }

    /// `A`, `aaaa`, `TYPE65`, or a number.
    static func parseType(_ text: String) -> RRType? {
        if let number = UInt16(text) { return RRType(number) }
        let upper = text.uppercased()
        if upper.hasPrefix("TYPE"), let number = UInt16(upper.dropFirst(4)) { return RRType(number) }
        return typesByName[upper]
    }

    /// Mnemonics DNSWire knows (`RRType.description`), looked up once.
    private static let typesByName: [String: RRType] = Dictionary(
        (0...UInt16(300)).map(RRType.init(_:)).filter { !$0.description.hasPrefix("TYPE") }.map { ($0.description, $0) },
        uniquingKeysWith: { first, _ in first })
}
