/// SVCB and HTTPS RDATA (RFC 9460 2.2): SvcPriority, TargetName (uncompressed,
/// RFC 9460 2.2), then SvcParams in strictly increasing key order, each
/// `key (2) | length (2) | value`.
///
/// The encoder sorts the parameters and checks each value's format, so what it writes
/// always parses; the parser is strict (keys strictly increasing, every known key's
/// value well formed, `mandatory` keys present, no parameters in AliasMode): RDATA
/// that parses encodes back to the same bytes.
public struct SVCBRDATA: Hashable, Sendable {
    /// 0: AliasMode; 1 and up: ServiceMode, lower preferred.
    public var priority: UInt16
    /// `.` (root): the owner name itself (RFC 9460 2.5).
    public var target: Name
    /// Any order; encoded in key order.
    public var params: [SvcParam]

    public struct SvcParam: Hashable, Sendable {
        public var key: SvcParamKey
        public var value: [UInt8]

        public init(key: SvcParamKey, value: [UInt8]) {
            self.key = key
            self.value = value
        }

        /// `mandatory=` (RFC 9460 8): the keys, ascending.
        public static func mandatory(_ keys: [SvcParamKey]) -> SvcParam {
            SvcParam(
                key: .mandatory, value: keys.sorted().flatMap { [UInt8($0.rawValue >> 8), UInt8($0.rawValue & 0xFF)] })
        }

        /// `alpn=` (RFC 9460 7.1.1): length-prefixed protocol ids, in preference order.
        /// Each id 1-255 bytes.
        public static func alpn(_ ids: [String]) throws(SVCBError) -> SvcParam {
            var value: [UInt8] = []
            for id in ids {
                guard (1...255).contains(id.utf8.count) else {
                    throw SVCBError("alpn: an id of \(id.utf8.count) bytes")
                }
                value += [UInt8(id.utf8.count)] + Array(id.utf8)
            }
            return SvcParam(key: .alpn, value: value)
        }

        /// `port=` (RFC 9460 7.2).
        public static func port(_ port: UInt16) -> SvcParam {
            SvcParam(key: .port, value: [UInt8(port >> 8), UInt8(port & 0xFF)])
        }

        /// `ipv4hint=` (RFC 9460 7.3): 4-byte addresses.
        public static func ipv4hint(_ addresses: [[UInt8]]) -> SvcParam {
            SvcParam(key: .ipv4hint, value: addresses.flatMap { $0 })
        }

        /// `ipv6hint=` (RFC 9460 7.3): 16-byte addresses.
        public static func ipv6hint(_ addresses: [[UInt8]]) -> SvcParam {
            SvcParam(key: .ipv6hint, value: addresses.flatMap { $0 })
        }
    }

    public init(priority: UInt16, target: Name, params: [SvcParam]) {
        self.priority = priority
        self.target = target
        self.params = params
    }

    /// The RDATA: parameters sorted by key, each value checked first.
    public func encoded() throws(SVCBError) -> [UInt8] {
        let sorted = params.sorted { $0.key < $1.key }
        try Self.check(priority: priority, sorted)
        var out = [UInt8(priority >> 8), UInt8(priority & 0xFF)] + target.wire
        for param in sorted {
            out += [UInt8(param.key.rawValue >> 8), UInt8(param.key.rawValue & 0xFF)]
            out += [UInt8(param.value.count >> 8), UInt8(param.value.count & 0xFF)]
            out += param.value
        }
        guard out.count <= 65535 else { throw SVCBError("RDATA of \(out.count) bytes is longer than 65535") }
        return out
    }

    /// The strict parser: `rdata` is one record's RDATA, all of it.
    public init(parsing rdata: [UInt8]) throws(SVCBError) {
        guard rdata.count >= 3 else { throw SVCBError("shorter than a priority and a name") }
        priority = UInt16(rdata[0]) << 8 | UInt16(rdata[1])
        // TargetName: uncompressed labels (RFC 9460 2.2: compression not allowed).
        var index = 2
        while true {
            guard index < rdata.count else { throw SVCBError("target name runs past the RDATA") }
            let length = Int(rdata[index])
            guard length <= 63 else { throw SVCBError("target name: a compression pointer or bad label type") }
            index += 1 + length
            if length == 0 { break }
        }
        guard index - 2 <= 255 else { throw SVCBError("target name longer than 255 octets") }
        do { target = try Name(wire: Array(rdata[2..<index])) } catch { throw SVCBError("target name: \(error)") }
        var params: [SvcParam] = []
        while index < rdata.count {
            guard index + 4 <= rdata.count else { throw SVCBError("a parameter header runs past the RDATA") }
            let key = SvcParamKey(UInt16(rdata[index]) << 8 | UInt16(rdata[index + 1]))
            let length = Int(rdata[index + 2]) << 8 | Int(rdata[index + 3])
            index += 4
            guard length <= rdata.count - index else { throw SVCBError("the value of \(key) runs past the RDATA") }
            if let last = params.last, key <= last.key {
                throw SVCBError("key \(key) after \(last.key): keys must be strictly increasing")
            }
            params.append(SvcParam(key: key, value: Array(rdata[index..<index + length])))
            index += length
        }
        try Self.check(priority: priority, params)
        self.params = params
    }

    /// Checks parameters sorted by key: no duplicates, each known key's value well
    /// formed (RFC 9460 7, 8), mandatory keys present, none in AliasMode.
    static func check(priority: UInt16, _ sorted: [SvcParam]) throws(SVCBError) {
        // RFC 9460 2.4.2: AliasMode carries no parameters (strict: refused, not ignored).
        if priority == 0, !sorted.isEmpty { throw SVCBError("AliasMode (priority 0) with parameters") }
        var previous: SvcParamKey? = nil
        for param in sorted {
            if let previous, previous == param.key { throw SVCBError("duplicate key \(param.key)") }
            previous = param.key
            guard param.value.count <= 65535 else { throw SVCBError("the value of \(param.key) is too long") }
            try checkValue(param)
        }
        let keys = Set(sorted.map(\.key))
        if let mandatory = sorted.first(where: { $0.key == .mandatory }) {
            for offset in stride(from: 0, to: mandatory.value.count, by: 2) {
                let key = SvcParamKey(UInt16(mandatory.value[offset]) << 8 | UInt16(mandatory.value[offset + 1]))
                guard keys.contains(key) else { throw SVCBError("mandatory key \(key) is missing") }
            }
        }
        // RFC 9460 7.1.1: no-default-alpn only with alpn.
        if keys.contains(.noDefaultALPN), !keys.contains(.alpn) { throw SVCBError("no-default-alpn without alpn") }
    }

    private static func checkValue(_ param: SvcParam) throws(SVCBError) {
        let value = param.value
        switch param.key {
        case .mandatory:
            guard !value.isEmpty, value.count % 2 == 0 else {
                throw SVCBError("mandatory: not a non-empty list of keys")
            }
            var previous: UInt16? = nil
            for offset in stride(from: 0, to: value.count, by: 2) {
                let key = UInt16(value[offset]) << 8 | UInt16(value[offset + 1])
                guard key != 0 else { throw SVCBError("mandatory lists mandatory") }
                if let previous, key <= previous { throw SVCBError("mandatory: keys not strictly increasing") }
                previous = key
            }
        case .alpn:
            guard !value.isEmpty else { throw SVCBError("alpn: empty") }
            var offset = 0
            while offset < value.count {
                let length = Int(value[offset])
                guard length > 0 else { throw SVCBError("alpn: an empty protocol id") }
                guard offset + 1 + length <= value.count else { throw SVCBError("alpn: an id runs past the value") }
                offset += 1 + length
            }
        case .noDefaultALPN:
            guard value.isEmpty else { throw SVCBError("no-default-alpn has a value") }
        case .port:
            guard value.count == 2 else { throw SVCBError("port: not 2 octets") }
        case .ipv4hint:
            guard !value.isEmpty, value.count % 4 == 0 else {
                throw SVCBError("ipv4hint: not a non-empty list of 4-octet addresses")
            }
        case .ipv6hint:
            guard !value.isEmpty, value.count % 16 == 0 else {
                throw SVCBError("ipv6hint: not a non-empty list of 16-octet addresses")
            }
        case .ech:
            guard !value.isEmpty else { throw SVCBError("ech: empty") }
        case .invalid:
            throw SVCBError("key65535 is reserved")
        default:
            break
        }
    }
}
