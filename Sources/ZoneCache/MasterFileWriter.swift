import CLDNS
import DNSWire

#if canImport(Glibc)
    import Glibc
#endif

/// Writes records as RFC 1035 master file lines (`onebzd zone dump`), in the
/// presentation form libldns prints for every type (unknown types as RFC 3597 `\#`).
public enum MasterFileWriter {
    /// One line (no newline): `owner TTL CLASS TYPE RDATA`, absolute names.
    public static func line(_ record: ResourceRecord) -> String? {
        var wire = record.name.wire
        wire += [UInt8(record.type.rawValue >> 8), UInt8(record.type.rawValue & 0xFF)]
        wire += [UInt8(record.rrClass.rawValue >> 8), UInt8(record.rrClass.rawValue & 0xFF)]
        wire += withUnsafeBytes(of: record.ttl.bigEndian, Array.init)
        guard record.rdata.count <= 0xFFFF else { return nil }
        wire += [UInt8(record.rdata.count >> 8), UInt8(record.rdata.count & 0xFF)]
        wire += record.rdata
        var rr: UnsafeMutablePointer<ldns_rr>? = nil
        var position = 0
        let status = wire.withUnsafeBufferPointer {
            ldns_wire2rr(&rr, $0.baseAddress, $0.count, &position, LDNS_SECTION_ANSWER)
        }
        guard status == LDNS_STATUS_OK, let rr else { return nil }
        defer { ldns_rr_free(rr) }
        guard let text = ldns_rr2str(rr) else { return nil }
        defer { free(text) }
        var line = String(cString: text)
        while line.last == "\n" { line.removeLast() }
        return line
    }
}
