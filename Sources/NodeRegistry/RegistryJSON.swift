/// The registry's hot JSON without Foundation: the stored record and the entry it
/// answers with are written byte for byte as `JSONEncoder` with `[.sortedKeys,
/// .withoutEscapingSlashes]` writes them, and a record or heartbeat is read in one pass
/// over the bytes into the value (docs/performance.md, "Registry writes").
///
/// The reader is a fast path, not a second JSON dialect: it accepts only what it fully
/// understands (the shapes the types have, plain non-negative integers, valid UTF-8,
/// the JSON escapes) and returns nil for anything else (an exponent, a duplicate key, a
/// lone surrogate, malformed input), and the caller then asks `JSONDecoder`, which
/// decides and words the error as before. Where the reader returns a value it is the
/// value `JSONDecoder` returns for the same bytes.
public enum RegistryJSON {
    // MARK: Writing

    /// A record as stored (the keys sorted, as `JSONEncoder.sorted` writes it).
    public static func encode(_ record: NodeMetadata) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        var w = Writer(out: out)
        w.object { w in writeRecordFields(&w, record, entry: nil) }
        return w.out
    }

    /// An entry as the API serves it: the record's keys and the registry's, flat, sorted.
    public static func encode(_ entry: RegistryEntry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(768)
        var w = Writer(out: out)
        w.object { w in writeRecordFields(&w, entry.record, entry: entry) }
        return w.out
    }

    /// The fields in sorted key order: ipv4, ipv6, last_heartbeat, node_hash, node_id,
    /// public_key, registered, seq, services, signature, stake_wei, tier, trust,
    /// updated_at, verified (the entry's only with `entry`).
    private static func writeRecordFields(_ w: inout Writer, _ r: NodeMetadata, entry e: RegistryEntry?) {
        w.key("ipv4")
        w.strings(r.ipv4)
        w.key("ipv6")
        w.strings(r.ipv6)
        if let e {
            if let last = e.lastHeartbeat {
                w.key("last_heartbeat")
                w.int(last)
            }
            w.key("node_hash")
            w.string(e.nodeHash.hex)
        }
        w.key("node_id")
        w.string(r.nodeID)
        w.key("public_key")
        w.string(r.publicKey)
        if let e {
            w.key("registered")
            w.bool(e.registered)
        }
        w.key("seq")
        w.uint(r.seq)
        if let services = r.services {
            w.key("services")
            w.raw(UInt8(ascii: "["))
            for (i, s) in services.enumerated() {
                if i > 0 { w.raw(UInt8(ascii: ",")) }
                w.object { w in
                    w.key("port")
                    w.int(Int64(s.port))
                    w.key("proto")
                    w.string(s.proto)
                }
            }
            w.raw(UInt8(ascii: "]"))
        }
        w.key("signature")
        w.string(r.signature)
        if let e {
            w.key("stake_wei")
            w.string(e.stakeWei)
            w.key("tier")
            w.string(e.tier)
            w.key("trust")
            w.int(Int64(e.trust))
            w.key("updated_at")
            w.int(e.updatedAt)
            w.key("verified")
            w.bool(e.verified)
        }
    }

    /// Appends JSON to a byte array; `key` writes the comma before every key but the first.
    struct Writer {
        var out: [UInt8]
        private var first = true

        init(out: [UInt8]) { self.out = out }

        mutating func raw(_ b: UInt8) { out.append(b) }

        mutating func object(_ body: (inout Writer) -> Void) {
            out.append(UInt8(ascii: "{"))
            let outer = first
            first = true
            body(&self)
            first = outer
            out.append(UInt8(ascii: "}"))
        }

        mutating func key(_ k: StaticString) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            k.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }

        mutating func strings(_ list: [String]) {
            out.append(UInt8(ascii: "["))
            for (i, s) in list.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                string(s)
            }
            out.append(UInt8(ascii: "]"))
        }

        mutating func bool(_ b: Bool) {
            if b { out.append(contentsOf: "true".utf8) } else { out.append(contentsOf: "false".utf8) }
        }

        mutating func int(_ v: Int64) {
            if v < 0 {
                out.append(UInt8(ascii: "-"))
                uint(v.magnitude)
            } else {
                uint(UInt64(v))
            }
        }

        mutating func uint(_ v: UInt64) {
            let start = out.count
            var v = v
            repeat {
                out.append(UInt8(ascii: "0") + UInt8(v % 10))
                v /= 10
            } while v > 0
            out[start...].reverse()
        }

        /// A JSON string as Foundation's encoder escapes it: `"` and `\`, the C0 controls
        /// (`\b \f \n \r \t` by name, the others as `\u00XX`); `/`, DEL and non-ASCII as is.
        mutating func string(_ s: String) {
            out.append(UInt8(ascii: "\""))
            var s = s
            s.withUTF8 { bytes in
                var start = 0
                for (i, b) in bytes.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
                    start = i + 1
                    out.append(UInt8(ascii: "\\"))
                    switch b {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(b)
                    case 0x08: out.append(UInt8(ascii: "b"))
                    case 0x0C: out.append(UInt8(ascii: "f"))
                    case 0x0A: out.append(UInt8(ascii: "n"))
                    case 0x0D: out.append(UInt8(ascii: "r"))
                    case 0x09: out.append(UInt8(ascii: "t"))
                    default:
                        out.append(contentsOf: "u00".utf8)
                        out.append(Self.hexDigit(b >> 4))
                        out.append(Self.hexDigit(b & 0xF))
                    }
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
            }
            out.append(UInt8(ascii: "\""))
        }

        private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "a") + v - 10 }
    }

    // MARK: Reading

    /// A record from JSON, or nil where `JSONDecoder` must decide (see the type's note).
    public static func decodeRecord(_ bytes: some Collection<UInt8>) -> NodeMetadata? {
        withContiguous(bytes) { buffer in
            var r = Reader(buffer)
            var nodeID: String?, publicKey: String?, ipv4: [String]?, ipv6: [String]?
            var seq: UInt64?, signature: String?, services: [NodeService]?? = .none
            let ok = r.object { r, key in
                switch key {
                case "node_id": return set(&nodeID, r.string())
                case "public_key": return set(&publicKey, r.string())
                case "ipv4": return set(&ipv4, r.strings())
                case "ipv6": return set(&ipv6, r.strings())
                case "seq": return set(&seq, r.uint())
                case "signature": return set(&signature, r.string())
                case "services":
                    guard case .none = services else { return false }
                    if r.null() {
                        services = .some(nil)
                        return true
                    }
                    guard let list = r.services() else { return false }
                    services = .some(list)
                    return true
                default: return r.skip()
                }
            }
            guard ok, r.atEnd, let nodeID, let publicKey, let ipv4, let ipv6, let seq, let signature else { return nil }
            return NodeMetadata(
                nodeID: nodeID, publicKey: publicKey, ipv4: ipv4, ipv6: ipv6, seq: seq, signature: signature,
                services: services ?? nil)
        }
    }

    /// A heartbeat from JSON, or nil where `JSONDecoder` must decide.
    public static func decodeHeartbeat(_ bytes: some Collection<UInt8>) -> Heartbeat? {
        withContiguous(bytes) { buffer in
            var r = Reader(buffer)
            var nodeID: String?, timestamp: UInt64?, signature: String?
            let ok = r.object { r, key in
                switch key {
                case "node_id": return set(&nodeID, r.string())
                case "timestamp": return set(&timestamp, r.uint())
                case "signature": return set(&signature, r.string())
                default: return r.skip()
                }
            }
            guard ok, r.atEnd, let nodeID, let timestamp, let ts = Int64(exactly: timestamp), let signature else { return nil }
            return Heartbeat(nodeID: nodeID, timestamp: ts, signature: signature)
        }
    }

    /// Sets a field once: a second occurrence of a key (or a value that did not parse) is
    /// left to `JSONDecoder`.
    private static func set<T>(_ field: inout T?, _ value: T?) -> Bool {
        guard field == nil, let value else { return false }
        field = value
        return true
    }

    private static func withContiguous<T>(_ bytes: some Collection<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> T?) -> T? {
        if let r = bytes.withContiguousStorageIfAvailable({ body($0) }) { return r }
        return Array(bytes).withUnsafeBufferPointer { body($0) }
    }

    /// A cursor over JSON bytes; every method returns nil/false at anything it does not take.
    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var atEnd: Bool {
            mutating get {
                whitespace()
                return i == bytes.count
            }
        }

        mutating func whitespace() {
            while i < bytes.count {
                switch bytes[i] {
                case 0x20, 0x09, 0x0A, 0x0D: i += 1
                default: return
                }
            }
        }

        mutating func take(_ b: UInt8) -> Bool {
            whitespace()
            guard i < bytes.count, bytes[i] == b else { return false }
            i += 1
            return true
        }

        mutating func literal(_ text: StaticString) -> Bool {
            whitespace()
            let n = text.utf8CodeUnitCount
            guard bytes.count - i >= n else { return false }
            for k in 0..<n where bytes[i + k] != text.utf8Start[k] { return false }
            i += n
            return true
        }

        mutating func null() -> Bool { literal("null") }

        /// `{ "key": value, ... }`; `field` reads each value (false: give up).
        mutating func object(_ field: (inout Reader, String) -> Bool) -> Bool {
            guard take(UInt8(ascii: "{")) else { return false }
            if take(UInt8(ascii: "}")) { return true }
            repeat {
                guard let key = string(), take(UInt8(ascii: ":")), field(&self, key) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}"))
        }

        mutating func strings() -> [String]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var list: [String] = []
            if take(UInt8(ascii: "]")) { return list }
            repeat {
                guard let s = string() else { return nil }
                list.append(s)
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]")) ? list : nil
        }

        mutating func services() -> [NodeService]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var list: [NodeService] = []
            if take(UInt8(ascii: "]")) { return list }
            repeat {
                var proto: String?, port: UInt64?
                let ok = object { r, key in
                    switch key {
                    case "proto": return RegistryJSON.set(&proto, r.string())
                    case "port": return RegistryJSON.set(&port, r.uint())
                    default: return r.skip()
                    }
                }
                guard ok, let proto, let port, let p = Int(exactly: port) else { return nil }
                list.append(NodeService(proto: proto, port: p))
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]")) ? list : nil
        }

        /// A plain non-negative integer (digits only, no leading zero, fits a UInt64).
        mutating func uint() -> UInt64? {
            whitespace()
            let start = i
            var v: UInt64 = 0
            while i < bytes.count, (0x30...0x39).contains(bytes[i]) {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(bytes[i] - 0x30))
                guard !o1, !o2 else { return nil }
                v = a
                i += 1
            }
            guard i > start, !(i - start > 1 && bytes[start] == 0x30) else { return nil }
            // A fraction or exponent follows: JSONDecoder's call.
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] | 0x20 == UInt8(ascii: "e") { return nil }
            return v
        }

        /// A string: valid UTF-8, no raw control characters, JSON escapes (a `\u` escape
        /// of a surrogate only as a high-low pair).
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = i
            // Most strings have no escape: one scan, then one validating copy.
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    let s = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                    i += 1
                    return s
                }
                if b == UInt8(ascii: "\\") { break }
                if b < 0x20 { return nil }
                i += 1
            }
            guard i < bytes.count else { return nil }
            var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<i]))
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                switch b {
                case UInt8(ascii: "\""): return String(validating: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard i < bytes.count else { return nil }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let unit = hex4() else { return nil }
                        var scalar: UInt32 = unit
                        if (0xD800...0xDBFF).contains(unit) {
                            guard literal("\\u"), let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                            scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(unit) {
                            return nil
                        }
                        guard let s = Unicode.Scalar(scalar) else { return nil }
                        out.append(contentsOf: UTF8.encode(s)!)
                    default: return nil
                    }
                default:
                    guard b >= 0x20 else { return nil }
                    out.append(b)
                }
            }
            return nil
        }

        private mutating func hex4() -> UInt32? {
            guard bytes.count - i >= 4 else { return nil }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[i]
                let d: UInt8
                switch b {
                case 0x30...0x39: d = b - 0x30
                case 0x61...0x66: d = b - 0x61 + 10
                case 0x41...0x46: d = b - 0x41 + 10
                default: return nil
                }
                v = v << 4 | UInt32(d)
                i += 1
            }
            return v
        }

        /// Skips any value of a key the type does not have (JSONDecoder ignores them).
        mutating func skip(depth: Int = 0) -> Bool {
            guard depth < 32 else { return false }
            whitespace()
            guard i < bytes.count else { return false }
            switch bytes[i] {
            case UInt8(ascii: "\""): return string() != nil
            case UInt8(ascii: "{"): return object { r, _ in r.skip(depth: depth + 1) }
            case UInt8(ascii: "["):
                i += 1
                if take(UInt8(ascii: "]")) { return true }
                repeat { guard skip(depth: depth + 1) else { return false } } while take(UInt8(ascii: ","))
                return take(UInt8(ascii: "]"))
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return null()
            default: return uint() != nil
            }
        }
    }
}
