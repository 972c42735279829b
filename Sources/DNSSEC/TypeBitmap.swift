import DNSWire

/// NSEC type bitmaps (RFC 4034 4.1.2): per 256-type window, its number, the length of
/// the bitmap and the bitmap (most significant bit first), trailing zero octets left out.
public enum TypeBitmap {
    public static func encode(_ types: [RRType]) -> [UInt8] {
        let sorted = Set(types.map(\.rawValue)).sorted()
        var out: [UInt8] = []
        var window: UInt8? = nil
        var bits: [UInt8] = []
        func flush() {
            guard let window else { return }
            out.append(window)
            out.append(UInt8(bits.count))
            out += bits
        }
        for type in sorted {
            let w = UInt8(type >> 8)
            if w != window {
                flush()
                window = w
                bits = []
            }
            let low = Int(type & 0xFF)
            while bits.count <= low / 8 { bits.append(0) }
            bits[low / 8] |= 0x80 >> UInt8(low % 8)
        }
        flush()
        return out
    }
}
