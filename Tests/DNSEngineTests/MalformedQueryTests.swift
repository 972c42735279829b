import DNSEngine
import DNSTestSupport
import DNSWire
import Testing

@Suite struct MalformedQueryTests {
    let engine = QueryEngine(zone: EngineFixture.shippedZone)
    static let question = [UInt8]([3, 119, 119, 119, 3, 49, 98, 122, 0, 0, 1, 0, 1])  // www.1bz A

    static func header(
        id: UInt16 = 0x0A0B, flags: UInt16 = 0, qd: UInt16 = 1, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0
    ) -> [UInt8] {
        [id, flags, qd, an, ns, ar].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    static let formErrCases: [(String, [UInt8])] = [
        ("no question", header(qd: 0)),
        ("two questions", header(qd: 2) + question + question),
        ("question truncated", header() + Array(question.prefix(10))),
        ("pointer in question", header() + [0xC0, 0x0C, 0, 1, 0, 1]),
        (
            "answer section in a query",
            header(an: 1) + question + [0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]
        ),
        ("authority section in a query", header(ns: 1) + question),
        ("additional count lies", header(ar: 1) + question),
        (
            "two OPT records",
            header(ar: 2) + question + [0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0] + [0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0]
        ),
        ("OPT not at the root", header(ar: 1) + question + [0xC0, 0x0C, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0]),
        ("trailing bytes", header() + question + [0xde, 0xad]),
        ("OPT option overruns", header(ar: 1) + question + [0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 4, 0, 8, 0, 9]),
    ]

    @Test(arguments: formErrCases)
    func formErr(label: String, bytes: [UInt8]) throws {
        let response = try EngineFixture.ask(engine, bytes)
        #expect(response.rcode == .formErr, "\(label)")
        #expect(response.header.id == 0x0A0B)
        #expect(response.header.isResponse)
        #expect(response.answers.isEmpty && response.authorities.isEmpty)
    }

    @Test func formErrEchoesAReadableQuestion() throws {
        let response = try EngineFixture.ask(engine, Self.header(an: 1) + Self.question)
        #expect(response.questions.first?.name == (try Name("www.1bz")))
    }

    @Test(arguments: [UInt16(1), 2, 4, 5, 15])
    func otherOpcodesAreNOTIMP(opcode: UInt16) throws {
        let response = try EngineFixture.ask(engine, Self.header(flags: opcode << 11) + Self.question)
        #expect(response.rcode == .notImp)
        #expect(response.header.opcode == Opcode(UInt8(opcode)))
        #expect(response.header.id == 0x0A0B)
    }

    @Test(arguments: [
        ("a response", header(flags: 0x8000) + question),
        ("shorter than a header", [UInt8](repeating: 0, count: 11)),
        ("empty", []),
    ])
    func dropped(label: String, bytes: [UInt8]) {
        #expect(engine.respond(to: bytes, transport: .udp) == nil, "\(label)")
    }

    /// Random bytes never crash the engine; whatever comes back decodes.
    @Test func fuzzedInputNeverCrashes() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<5000 {
            let length = Int.random(in: 0..<80, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if round % 2 == 0, bytes.count > 12 {
                bytes[2] &= 0x07
                bytes[4] = 0
                bytes[5] = 1
            }  // mostly queries
            if let response = engine.respond(to: bytes, transport: .udp) {
                #expect(throws: Never.self) { try Message(decoding: response) }
            }
        }
    }
}
