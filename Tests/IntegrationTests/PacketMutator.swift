import DNSWire

/// Seeded generator of hostile DNS packets for the replay tests: valid queries, then
/// bit flips, byte overwrites, truncations, insertions, lying section counts,
/// compression pointers anywhere, and plain random bytes. Deterministic per seed so a
/// failure can be replayed.
struct PacketMutator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// SplitMix64.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }

    static let names = [
        "1bz", "www.1bz", "ns1.1bz", "nope.1bz", "shashi.1bz", "ShAsHi.1bz", "x.y.z.1bz", "example.com",
        "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.1bz", String(repeating: "a", count: 63) + ".1bz",
    ]
    static let types: [RRType] = [.a, .aaaa, .txt, .ns, .soa, .mx, .any, RRType(rawValue: 0xFFFE), RRType(rawValue: 255)]

    /// A well-formed query, sometimes with EDNS (odd sizes, versions, options).
    mutating func validQuery(id: UInt16) -> [UInt8] {
        var message = Message()
        message.header.id = id
        message.header.recursionDesired = below(2) == 0
        message.questions = [
            Question(name: try! Name(Self.names[below(Self.names.count)]), type: Self.types[below(Self.types.count)])
        ]
        if below(2) == 0 {
            let lengths = [8, 16, 40, 3]
            let length = lengths[below(lengths.count)]
            var cookie: [UInt8] = []
            for _ in 0..<length { cookie.append(byte()) }
            var options: [(code: UInt16, data: [UInt8])] = []
            if below(2) == 0 { options.append((code: UInt16(10), data: cookie)) }
            message.edns = EDNS(
                udpPayloadSize: ([512, 1232, 4096, 0, 65535] as [UInt16])[below(5)], extendedRcode: 0,
                version: below(8) == 0 ? 1 : 0, dnssecOK: below(2) == 0, options: options)
        }
        return try! message.encoded()
    }

    /// One hostile packet derived from a valid query (or from nothing).
    mutating func hostilePacket(id: UInt16) -> [UInt8] {
        var bytes = validQuery(id: id)
        switch below(9) {
        case 0:  // bit flips
            for _ in 0...below(4) { bytes[below(bytes.count)] ^= 1 << UInt8(below(8)) }
        case 1:  // byte overwrites
            for _ in 0...below(6) { bytes[below(bytes.count)] = byte() }
        case 2:  // truncation (also below the 12-byte header)
            bytes = Array(bytes.prefix(below(bytes.count)))
        case 3:  // insertion
            let at = below(bytes.count)
            bytes.insert(contentsOf: (0...below(20)).map { _ in byte() }, at: at)
        case 4:  // lying section counts
            for offset in stride(from: 4, to: 12, by: 2) where below(2) == 0 {
                bytes[offset] = byte()
                bytes[offset + 1] = byte()
            }
        case 5:  // a compression pointer somewhere (loops, forward pointers)
            let at = 12 + below(max(1, bytes.count - 13))
            if at + 1 < bytes.count {
                bytes[at] = 0xC0 | (byte() & 0x3F)
                bytes[at + 1] = below(2) == 0 ? UInt8(at & 0xFF) : byte()
            }
        case 6:  // random bytes
            bytes = (0..<below(600)).map { _ in byte() }
        case 7:  // QR set, other opcodes
            bytes[2] = byte()
        default:  // trailing garbage
            bytes += (0...below(64)).map { _ in byte() }
        }
        return bytes
    }
}
