import DNSWire
import Testing

/// RFC 1982 serial arithmetic and the SOA serial's place in RDATA, in one home.
struct SerialNumberTests {
    @Test func ordinaryAndWrappedComparisons() {
        #expect(SerialNumber.compare(1, 2) == .less)
        #expect(SerialNumber.compare(2, 2) == .equal)
        #expect(SerialNumber.compare(3, 2) == .greater)
        #expect(SerialNumber.compare(UInt32.max, 5) == .less, "wrapped: max + 6 = 5")
        #expect(SerialNumber.compare(5, UInt32.max) == .greater)
        #expect(SerialNumber.compare(0, 0x7FFF_FFFF) == .less, "the farthest that is still defined")
        #expect(SerialNumber.compare(0x7FFF_FFFF, 0) == .greater)
    }

    /// The two comparisons the code had disagreed here: the transfer code's
    /// `isOlder(0, than: 2^31)` said older, the journal's `isLess(0, 2^31)` said not.
    /// RFC 1982 3.2: "it is not possible to determine" which of two serials exactly
    /// 2^31 apart is greater, so both `isLess` directions are false (the journal was
    /// right), and a caller that must choose decides explicitly: IXFR sends the zone,
    /// as Knot does (ZoneTransferResponderTests).
    @Test func exactly2To31ApartIsUndefinedInBothDirections() {
        for (a, b) in [(UInt32(0), UInt32(0x8000_0000)), (0x8000_0000, 0), (7, 0x8000_0007), (UInt32.max, 0x7FFF_FFFF)] {
            #expect(SerialNumber.compare(a, b) == .undefined, "\(a) vs \(b)")
            #expect(!SerialNumber.isLess(a, b) && !SerialNumber.isLess(b, a))
        }
    }

    @Test func readAndWriteTheSOASerial() throws {
        let rdata: [UInt8] = [3, 110, 115, 49, 0, 0] + [0, 0, 0, 42] + Array(repeating: 0, count: 16)
        let soa = ResourceRecord(name: try Name("1bz."), type: .soa, ttl: 60, rdata: rdata)
        #expect(SerialNumber.of(soa: soa) == 42)
        #expect(SerialNumber.of(soa: soa.withSOASerial(0xDEAD_BEEF)) == 0xDEAD_BEEF)
        let truncated = ResourceRecord(name: try Name("1bz."), type: .soa, ttl: 60, rdata: Array(rdata.prefix(10)))
        #expect(SerialNumber.of(soa: truncated) == nil)
        #expect(truncated.withSOASerial(1) == truncated, "malformed RDATA is left alone")
        #expect(SerialNumber.of(soa: ResourceRecord(name: try Name("1bz."), type: .txt, ttl: 60, rdata: rdata)) == nil)
    }
}
