/// SOA serials: where they sit in SOA RDATA (RFC 1035 3.3.13) and how they compare
/// (RFC 1982 serial number arithmetic, 32 bits). The one place every module reads,
/// writes and compares serials.
public enum SerialNumber {
    /// How two serials compare. RFC 1982 3.2 leaves two serials exactly 2^31 apart
    /// undefined: neither is less than the other.
    public enum Order: Equatable, Sendable {
        case less
        case equal
        case greater
        case undefined
    }

    public static func compare(_ a: UInt32, _ b: UInt32) -> Order {
        if a == b { return .equal }
        switch b &- a {
        case 0x8000_0000: return .undefined
        case ..<0x8000_0000: return .less
        default: return .greater
        }
    }

    /// `a` < `b` (RFC 1982 3.2); false when they are exactly 2^31 apart (undefined).
    public static func isLess(_ a: UInt32, _ b: UInt32) -> Bool { compare(a, b) == .less }

    /// The serial of an SOA record (nil: not an SOA, or malformed RDATA).
    public static func of(soa: ResourceRecord) -> UInt32? {
        guard soa.type == .soa else { return nil }
        return read(soaRDATA: soa.rdata)
    }

    /// The serial in SOA RDATA (nil when malformed).
    public static func read(soaRDATA rdata: [UInt8]) -> UInt32? {
        guard let offset = offset(soaRDATA: rdata) else { return nil }
        return rdata[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    /// SOA RDATA with another serial (unchanged when malformed).
    public static func write(_ serial: UInt32, soaRDATA rdata: [UInt8]) -> [UInt8] {
        guard let offset = offset(soaRDATA: rdata) else { return rdata }
        var out = rdata
        out.replaceSubrange(offset..<offset + 4, with: withUnsafeBytes(of: serial.bigEndian, Array.init))
        return out
    }

    /// Where the serial starts: after MNAME and RNAME (uncompressed in RDATA), with the
    /// five 32-bit fields present.
    private static func offset(soaRDATA rdata: [UInt8]) -> Int? {
        var index = 0
        for _ in 0..<2 {
            while index < rdata.count, rdata[index] != 0 { index += 1 + Int(rdata[index]) }
            index += 1
        }
        return index + 20 <= rdata.count ? index : nil
    }
}

extension ResourceRecord {
    /// This SOA with another serial.
    public func withSOASerial(_ serial: UInt32) -> ResourceRecord {
        var record = self
        record.rdata = SerialNumber.write(serial, soaRDATA: rdata)
        return record
    }
}
