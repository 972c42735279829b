import DNSWire
import Testing

/// Every malformed shape the decoder must reject: it throws, it never traps or loops.
@Suite struct MalformedMessageTests {
    /// A header with the given counts (ID 0x1234, a query).
    static func header(qd: UInt8 = 1, an: UInt8 = 0, ns: UInt8 = 0, ar: UInt8 = 0) -> [UInt8] {
        [0x12, 0x34, 0x00, 0x00, 0, qd, 0, an, 0, ns, 0, ar]
    }
    static let question = hex("0331627a0000010001")  // 1bz. A IN

    struct Case: Sendable, CustomTestStringConvertible {
        let label: String
        let bytes: [UInt8]
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "shorter than a header", bytes: [0x12, 0x34, 0x00]),
        Case(label: "question count lies", bytes: header(qd: 2) + question),
        Case(label: "question name truncated", bytes: header() + hex("0331627a")),
        Case(label: "question type truncated", bytes: header() + hex("0331627a0000")),
        Case(label: "label runs past the end", bytes: header() + hex("3f6162")),
        Case(label: "pointer to itself (loop)", bytes: header() + hex("c00c00010001")),
        Case(label: "pointer forward", bytes: header() + hex("c00e00010001")),
        Case(label: "pointer out of range", bytes: header() + hex("c0ff00010001")),
        Case(
            label: "pointer loop via two pointers",
            bytes: header(an: 1) + question + hex("c019") + hex("0001000100000e100000") + hex("c017")),
        Case(label: "extended label type 0x40", bytes: header() + hex("41610000010001")),
        Case(label: "label type 0x80", bytes: header() + hex("81610000010001")),
        Case(
            label: "name longer than 255",
            bytes: header() + Array(repeating: [63] + Array(repeating: 0x61, count: 63), count: 5).flatMap { $0 } + [
                0, 0, 1, 0, 1,
            ]),
        Case(label: "answer count lies", bytes: header(an: 5) + question),
        Case(label: "additional count lies", bytes: header(ar: 1) + question),
        Case(label: "RDATA truncated", bytes: header(an: 1) + question + hex("c00c000100010000 0e100004c000")),
        Case(
            label: "RDLENGTH shorter than the NS name",
            bytes: header(an: 1) + question + hex("c00c000200010000 0e100002036e7331c00c")),
        Case(
            label: "RDLENGTH longer than the NS name",
            bytes: header(an: 1) + question + hex("c00c000200010000 0e100004c00c0000")),
        Case(
            label: "SOA without its fixed fields",
            bytes: header(an: 1) + question + hex("c00c000600010000 0e100004c00cc00c")),
        Case(
            label: "two OPT records",
            bytes: header(ar: 2) + question + hex("00002904d0000000000000") + hex("00002904d0000000000000")),
        Case(label: "OPT not owned by the root", bytes: header(ar: 1) + question + hex("c00c002904d0000000000000")),
        Case(
            label: "OPT option longer than RDATA",
            bytes: header(ar: 1) + question + hex("00002904d000000000000400080001")),
        Case(label: "OPT in the answer section", bytes: header(an: 1) + question + hex("00002904d0000000000000")),
    ]

    @Test(arguments: cases)
    func decoderRejects(_ input: Case) {
        #expect(throws: DNSWireError.self) { try Message(decoding: input.bytes) }
    }

    @Test func trailingBytesAreReportedNotFatal() throws {
        var trailing = 0
        let message = try Message(decoding: Self.header() + Self.question + [1, 2, 3], trailingBytes: &trailing)
        #expect(trailing == 3)
        #expect(message.questions.count == 1)
    }

    /// A backwards pointer chain is fine (the normal case), but only backwards.
    @Test func backwardPointersDecode() throws {
        let bytes = Self.header(an: 1) + Self.question + hex("c00c000200010000 0e100006036e7331c00c")
        let message = try Message(decoding: bytes)
        #expect(message.answers.first?.targetName == (try Name("ns1.1bz")))
    }

    /// The QueryView (the server's fast parser) agrees: nothing here parses as a query
    /// it would answer normally.
    @Test(arguments: cases)
    func queryViewRejects(_ input: Case) {
        let result = input.bytes.withUnsafeBytes { QueryView.parse($0) }
        if case .success = result {
            Issue.record("QueryView accepted \(input.label)")
        }
    }
}
