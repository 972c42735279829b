import DNSWire
import Testing

@testable import NodeRegistry

@Suite struct Base32Tests {
    @Test(arguments: [
        ("", ""), ("f", "my"), ("fo", "mzxq"), ("foo", "mzxw6"), ("foob", "mzxw6yq"),
        ("fooba", "mzxw6ytb"), ("foobar", "mzxw6ytboi"),
    ])
    func rfc4648Vectors(_ plain: String, _ encoded: String) {
        #expect(Base32.encode(Array(plain.utf8)) == encoded)
        #expect(Base32.decode(encoded) == Array(plain.utf8))
        #expect(Base32.decode(encoded.uppercased()) == Array(plain.utf8))
    }

    /// RFC 4648 10's base32hex vectors (NSEC3 owner names), and the same strictness:
    /// NSEC3's own decoder used to accept non-zero trailing bits.
    @Test(arguments: [
        ("", ""), ("f", "co"), ("fo", "cpng"), ("foo", "cpnmu"), ("foob", "cpnmuog"),
        ("fooba", "cpnmuoj1"), ("foobar", "cpnmuoj1e8"),
    ])
    func rfc4648ExtendedHexVectors(_ plain: String, _ encoded: String) {
        #expect(Base32.encode(Array(plain.utf8), alphabet: .extendedHex) == encoded)
        #expect(Base32.decode(encoded.uppercased(), alphabet: .extendedHex) == Array(plain.utf8))
        #expect(Base32.decode("cp", alphabet: .extendedHex) == nil, "non-zero trailing bits")
        #expect(Base32.decode("w", alphabet: .extendedHex) == nil && Base32.decode("co", alphabet: .standard) == nil)
    }

    @Test(arguments: ["my======", "m1", "m0", "mz xq", "mz", "m", "mzxw6ytbo-"])
    func rejectsBadInput(_ text: String) {
        // Padding, digits outside 2-7, spaces, non-zero trailing bits, dangling characters.
        #expect(Base32.decode(text) == nil)
    }

    @Test(arguments: [
        "", "abc", "x.id.1bz", String(repeating: "a", count: 51) + ".id.1bz",
        String(repeating: "a", count: 53) + ".id.1bz", String(repeating: "1", count: 52) + ".id.1bz",
        String(repeating: "b", count: 52) + ".id.1bz",  // non-zero trailing bits
    ])
    func rejectsBadNodeNames(_ name: String) {
        #expect(NodeID(dnsName: name) == nil)
    }

    @Test func nodeIDHexIsStrict() {
        let ok = String(repeating: "ab", count: 32)
        #expect(NodeID(hex: ok) != nil)
        #expect(NodeID(hex: ok.uppercased()) == nil)
        #expect(NodeID(hex: String(ok.dropLast())) == nil)
        #expect(NodeID(hex: "0x" + ok.dropLast(2)) == nil)
        let id = NodeID(hex: ok)!
        #expect(NodeID(dnsName: id.dnsName) == id)
        #expect(id.base32Label.count == 52)
    }
}
