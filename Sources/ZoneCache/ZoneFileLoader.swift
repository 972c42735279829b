import CLDNS
import DNSWire

#if canImport(Glibc)
    import Glibc
#endif

/// Reads an RFC 1035 master file with libldns into plain records.
public enum ZoneFileLoader {
    /// Parses `path` with `origin` as the default origin ($ORIGIN in the file wins).
    /// Errors name the file and, for syntax errors, the line (ldns counts them).
    public static func load(path: String, origin: Name) throws(ZoneError) -> [ResourceRecord] {
        guard let file = fopen(path, "r") else {
            throw ZoneError(file: path, line: nil, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        guard let originRDF = ldns_dname_new_frm_str(origin.description) else {
            throw ZoneError(file: path, line: nil, reason: "invalid origin \(origin)")
        }
        defer { ldns_rdf_deep_free(originRDF) }
        var zone: UnsafeMutablePointer<ldns_zone>? = nil
        var line: Int32 = 0
        let status = ldns_zone_new_frm_fp_l(&zone, file, originRDF, 3600, LDNS_RR_CLASS_IN, &line)
        guard status == LDNS_STATUS_OK, let zone else {
            let message = String(cString: ldns_get_errorstr_by_id(status))
            throw ZoneError(file: path, line: Int(line), reason: message)
        }
        defer { ldns_zone_deep_free(zone) }
        var records: [ResourceRecord] = []
        if let soa = ldns_zone_soa(zone) { records.append(try record(soa, path: path)) }
        if let list = ldns_zone_rrs(zone) {
            for index in 0..<ldns_rr_list_rr_count(list) {
                guard let rr = ldns_rr_list_rr(list, index) else { continue }
                records.append(try record(rr, path: path))
            }
        }
        return records
    }

    private static func record(_ rr: UnsafeMutablePointer<ldns_rr>, path: String) throws(ZoneError) -> ResourceRecord {
        guard let owner = ldns_rr_owner(rr), let name = try? Name(wire: bytes(of: owner)) else {
            throw ZoneError(file: path, line: nil, reason: "record with an invalid owner name")
        }
        guard let buffer = ldns_buffer_new(512) else {
            throw ZoneError(file: path, line: nil, reason: "out of memory")
        }
        defer { ldns_buffer_free(buffer) }
        guard ldns_rr_rdata2buffer_wire(buffer, rr) == LDNS_STATUS_OK else {
            throw ZoneError(file: path, line: nil, reason: "cannot render RDATA of \(name)")
        }
        let rdata = Array(UnsafeBufferPointer(start: ldns_buffer_begin(buffer), count: ldns_buffer_position(buffer)))
        return ResourceRecord(
            name: name, type: RRType(UInt16(ldns_rr_get_type(rr).rawValue)),
            rrClass: RRClass(UInt16(ldns_rr_get_class(rr).rawValue)), ttl: ldns_rr_ttl(rr), rdata: rdata)
    }

    private static func bytes(of rdf: UnsafePointer<ldns_rdf>) -> [UInt8] {
        Array(UnsafeBufferPointer(start: ldns_rdf_data(rdf), count: ldns_rdf_size(rdf)))
    }
}
