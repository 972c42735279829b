import DNSWire
import NIOCore

/// RDATA in zone-file presentation form for the DNS-JSON `data` field: the types our
/// zone serves, and RFC 3597 `\# <length> <hex>` for everything else.
enum RDATAPresentation {
    static func text(type: RRType, rdata: [UInt8]) -> String {
        switch type {
        case .a where rdata.count == 4, .aaaa where rdata.count == 16:
            return address(rdata) ?? generic(rdata)
        case .ns, .cname, .ptr, .dname:
            return (try? Name(wire: rdata).description) ?? generic(rdata)
        case .mx where rdata.count > 2:
            let preference = UInt16(rdata[0]) << 8 | UInt16(rdata[1])
            return (try? Name(wire: Array(rdata[2...])).description).map { "\(preference) \($0)" } ?? generic(rdata)
        case .txt:
            return characterStrings(rdata) ?? generic(rdata)
        case .soa:
            return soa(rdata) ?? generic(rdata)
        default:
            return generic(rdata)
        }
    }

    private static func address(_ bytes: [UInt8]) -> String? {
        (try? SocketAddress(packedIPAddress: ByteBuffer(bytes: bytes), port: 0))?.ipAddress
    }

    /// `"a" "b"`: each <character-string> quoted, `"` and `\` escaped, others as `\DDD`.
    private static func characterStrings(_ rdata: [UInt8]) -> String? {
        var parts: [String] = []
        var index = 0
        while index < rdata.count {
            let length = Int(rdata[index])
            guard index + 1 + length <= rdata.count else { return nil }
            var text = "\""
            for byte in rdata[(index + 1)..<(index + 1 + length)] {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): text += "\\" + String(UnicodeScalar(byte))
                case 0x20...0x7E: text += String(UnicodeScalar(byte))
                default: text += "\\" + String(repeating: "0", count: 3 - String(byte).count) + String(byte)
                }
            }
            parts.append(text + "\"")
            index += 1 + length
        }
        return parts.joined(separator: " ")
    }

    private static func soa(_ rdata: [UInt8]) -> String? {
        rdata.withUnsafeBytes { raw -> String? in
            guard let (mname, next) = try? WireReader.readName(raw, at: 0),
                let (rname, end) = try? WireReader.readName(raw, at: next), end + 20 == rdata.count
            else { return nil }
            let numbers = (0..<5).map { field in
                rdata[(end + 4 * field)..<(end + 4 * field + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            }
            return ([mname.description, rname.description] + numbers.map(String.init)).joined(separator: " ")
        }
    }

    private static func generic(_ rdata: [UInt8]) -> String {
        let hex = rdata.map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
        return "\\# \(rdata.count)" + (hex.isEmpty ? "" : " \(hex)")
    }
}
