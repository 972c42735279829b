import DNSWire
import Testing

/// A cached answer holds one template (two with DNSSEC) per rendered type, a million of
/// them at a million names (docs/performance.md#memory-at-1m-issue-23): the stored
/// fields are packed (the two flags in one byte), and every field reads back what it
/// was made with.
@Suite struct ResponseTemplateTests {
    @Test func isThirtyTwoBytes() {
        #expect(MemoryLayout<ResponseTemplate>.size == 32)
        #expect(MemoryLayout<ResponseTemplate>.stride == 32)
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func fieldsReadBackAsMade(authoritative: Bool, additionalOptional: Bool) throws {
        let name = try Name("shashi.1bz.")
        let a = ResourceRecord(name: name, type: .a, ttl: 300, rdata: [192, 0, 2, 1])
        let glue = ResourceRecord(name: try Name("ns1.1bz."), type: .a, ttl: 60, rdata: [192, 0, 2, 53])
        let template = ResponseTemplate(
            rcode: .nxDomain, authoritative: authoritative, questionName: name, answers: [a, a], authorities: [],
            additionals: [glue], additionalOptional: additionalOptional)
        #expect(template.authoritative == authoritative)
        #expect(template.additionalOptional == additionalOptional)
        #expect(template.rcode == .nxDomain)
        #expect((template.answerCount, template.authorityCount, template.additionalCount) == (2, 0, 1))
        #expect(template.cacheTTL == 300)
        #expect(template.additionalStart == 2 * 16, "two compressed A records before the glue")
        #expect(template.tail.count == template.additionalStart + 20, "ns1 and a pointer, fixed fields, RDATA")
        #expect(template.extendedError == nil)
        let stale = template.with(extendedError: ExtendedDNSError.staleAnswer)
        #expect(stale.extendedError == 3)
        #expect(stale.authoritative == authoritative && stale.additionalOptional == additionalOptional)
        #expect(stale.tail == template.tail)
    }
}
