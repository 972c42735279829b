import DNSWire
import Testing

/// Inputs found by scripts/fuzz (Fuzz/OnebzFuzz): each is rejected, or decodes and
/// re-encodes to a fixpoint (encode(decode(encode(m))) == encode(m)) with the same
/// records up to the case of names; never crashes.
struct FuzzRegressionTests {
    static let crashes: [String] = [
        // Name compression matches case-insensitively (RFC 1035 4.1.4 / RFC 4343), so an
        // NS target "ns1.1bz" written after "nS1.1bz" comes back as "nS1.1bz": the same
        // name, another case. A strict decode(encode(m)) == m check flagged it.
        "4a002e0000010002000000040331627a0000020001c00c0002000100000e100006036e5331c00cc00c0002000100000e10"
            + "0006036e7332c00cc02100010001000000000000000000040331627a0000020001c00c0002000100000e100006036e7331"
            + "c00cc00c0002000100000e100006036e7332c00cc02100010053"
    ]

    @Test(arguments: crashes)
    func decodeEncodeRoundTrip(_ text: String) throws {
        guard let message = try? Message(decoding: hex(text)) else { return }
        let encoded = try message.encoded()
        let again = try Message(decoding: encoded)
        #expect(try again.encoded() == encoded, "encoding is a fixpoint after one round")
        #expect(Self.caseFolded(again) == Self.caseFolded(message))
    }

    /// The message with every ASCII letter of names and RDATA lowercased.
    static func caseFolded(_ message: Message) -> Message {
        func fold(_ bytes: [UInt8]) -> [UInt8] { bytes.map { (65...90).contains($0) ? $0 | 0x20 : $0 } }
        func fold(_ record: ResourceRecord) -> ResourceRecord {
            var r = record
            r.name = r.name.lowercased
            r.rdata = fold(r.rdata)
            return r
        }
        var m = message
        m.answers = m.answers.map(fold)
        m.authorities = m.authorities.map(fold)
        m.additionals = m.additionals.map(fold)
        return m
    }
}
