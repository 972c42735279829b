import DNSEngine
import DNSWire

/// SVCB/HTTPS RDATA (`SVCBRDATA`, RFC 9460), both ways, and the service-name split
/// (`NodeSubname.split`). Invariants:
/// - RDATA the strict parser accepts encodes back to the same bytes, and parses again
///   to the same value;
/// - parameters built from the input (any keys, lengths, order) either are refused by
///   the encoder or encode to RDATA that parses back to them, sorted by key;
/// - a name the split accepts has its node name inside it, at a label boundary.
enum SVCBTarget {
    static func run(_ bytes: [UInt8]) {
        parse(bytes)
        build(bytes)
        split(bytes)
    }

    static func parse(_ bytes: [UInt8]) {
        guard let parsed = try? SVCBRDATA(parsing: bytes) else { return }
        guard let encoded = try? parsed.encoded() else { fatalError("parsed RDATA does not encode: \(bytes)") }
        precondition(encoded == bytes, "parse/encode changed the RDATA: \(bytes) -> \(encoded)")
        precondition((try? SVCBRDATA(parsing: encoded)) == parsed, "re-parse differs for \(bytes)")
    }

    /// Input as `priority (2) | { key (2) | length (1) | value }*`, the target `.`.
    static func build(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return }
        var params: [SVCBRDATA.SvcParam] = []
        var index = 2
        while index + 3 <= bytes.count {
            let key = SvcParamKey(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
            let length = min(Int(bytes[index + 2]), bytes.count - index - 3)
            params.append(SVCBRDATA.SvcParam(key: key, value: Array(bytes[index + 3..<index + 3 + length])))
            index += 3 + length
        }
        let record = SVCBRDATA(priority: UInt16(bytes[0]) << 8 | UInt16(bytes[1]), target: .root, params: params)
        guard let encoded = try? record.encoded() else { return }
        guard let back = try? SVCBRDATA(parsing: encoded) else {
            fatalError("encoded RDATA does not parse: \(encoded)")
        }
        precondition(back.params == params.sorted { $0.key < $1.key }, "round trip changed the parameters")
    }

    static func split(_ bytes: [UInt8]) {
        guard let name = try? Name(wire: bytes) else { return }
        name.wire.withUnsafeBytes { wire in
            guard let (subname, offset) = NodeSubname.split(wire) else { return }
            precondition(offset >= 0 && offset < wire.count, "offset \(offset) outside \(wire.count)")
            var labels = 0
            var at = 0
            while at < offset {
                at += 1 + Int(wire[at])
                labels += 1
            }
            precondition(at == offset, "offset \(offset) is not a label boundary")
            precondition(
                labels == (subname == .node ? 0 : subname == .tcp ? 1 : 2), "\(subname) after \(labels) labels")
        }
    }
}
