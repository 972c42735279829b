/// A whole DNS message. The OPT pseudo-record is not kept in `additionals`: it is
/// lifted into `edns` on decode and appended last on encode.
public struct Message: Hashable, Sendable {
    public var header: Header
    public var questions: [Question]
    public var answers: [ResourceRecord]
    public var authorities: [ResourceRecord]
    public var additionals: [ResourceRecord]
    public var edns: EDNS?

    public init(
        header: Header = Header(), questions: [Question] = [], answers: [ResourceRecord] = [],
        authorities: [ResourceRecord] = [], additionals: [ResourceRecord] = [], edns: EDNS? = nil
    ) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
        self.edns = edns
    }

    /// The full 12-bit rcode (header bits plus the OPT's extended bits).
    public var rcode: Rcode {
        get { Rcode(UInt16(edns?.extendedRcode ?? 0) << 4 | UInt16(header.rcodeBits)) }
        set {
            header.rcodeBits = newValue.headerBits
            if edns != nil { edns?.extendedRcode = newValue.extendedBits }
        }
    }
}
