/// Which name at or below a node name a query asks about (docs/dns.md#web-service-records):
/// the node name itself, its `_tcp` label (an empty non-terminal when the node declares
/// a service) or `_PORT._tcp` (where TLSA records live, RFC 6698 3). Packed in one
/// word: 0 the node name, 1...65535 a port, `tcp` above them.
public struct NodeSubname: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let node = NodeSubname(rawValue: 0)
    public static let tcp = NodeSubname(rawValue: 0x1_0000)
    public static func port(_ port: UInt16) -> NodeSubname { NodeSubname(rawValue: UInt32(port)) }

    /// The port of a `_PORT._tcp` name.
    public var port: UInt16? { rawValue >= 1 && rawValue <= 0xFFFF ? UInt16(rawValue) : nil }

    /// The labels in front of the node name (`_443._tcp.`, `_tcp.`, or none).
    public var prefix: String {
        if let port { return "_\(port)._tcp." }
        return self == .tcp ? "_tcp." : ""
    }

    public var description: String { prefix.isEmpty ? "node" : String(prefix.dropLast()) }

    /// Splits a query name (wire, uncompressed, validated, any case) into its prefix and
    /// the offset where the node name starts: `_tcp.` (1 label) or `_N._tcp.` (2
    /// labels; N decimal 1-65535 without leading zeros). No prefix: `.node`, offset 0.
    /// Nil for `_`-labels of any other form (such names never exist). No allocation.
    @inline(__always)
    public static func split(_ qname: UnsafeRawBufferPointer) -> (NodeSubname, offset: Int)? {
        guard qname.count > 1, qname[1] == UInt8(ascii: "_") else { return (.node, 0) }
        if isTCP(qname, at: 0) { return (.tcp, 5) }
        let length = Int(qname[0])
        guard length >= 2, length <= 6, isTCP(qname, at: 1 + length) else { return nil }
        // RFC 6698 3: the port in decimal; no leading zeros, so each port has one name.
        guard qname[2] != UInt8(ascii: "0") else { return nil }
        var port: UInt32 = 0
        for index in 2..<(1 + length) {
            let digit = qname[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            port = port * 10 + UInt32(digit)
        }
        guard port <= 0xFFFF else { return nil }
        return (.port(UInt16(port)), 1 + length + 5)
    }

    /// Whether the label at `offset` is `_tcp` (any case).
    @inline(__always)
    private static func isTCP(_ qname: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        offset + 5 < qname.count && qname[offset] == 4 && qname[offset + 1] == UInt8(ascii: "_")
            && qname[offset + 2] | 0x20 == UInt8(ascii: "t") && qname[offset + 3] | 0x20 == UInt8(ascii: "c")
            && qname[offset + 4] | 0x20 == UInt8(ascii: "p")
    }
}
