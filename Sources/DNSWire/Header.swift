/// The fixed 12-octet message header (RFC 1035 4.1.1).
public struct Header: Hashable, Sendable {
    public var id: UInt16 = 0
    public var isResponse = false
    public var opcode = Opcode.query
    public var authoritative = false
    public var truncated = false
    public var recursionDesired = false
    public var recursionAvailable = false
    public var authenticData = false
    public var checkingDisabled = false
    /// The low four bits of the rcode (the rest travels in OPT).
    public var rcodeBits: UInt8 = 0

    public init() {}

    /// The flags word (second 16 bits of the header).
    public var flags: UInt16 {
        get {
            var value = UInt16(opcode.rawValue) << 11 | UInt16(rcodeBits & 0x0F)
            if isResponse { value |= 0x8000 }
            if authoritative { value |= 0x0400 }
            if truncated { value |= 0x0200 }
            if recursionDesired { value |= 0x0100 }
            if recursionAvailable { value |= 0x0080 }
            if authenticData { value |= 0x0020 }
            if checkingDisabled { value |= 0x0010 }
            return value
        }
        set {
            isResponse = newValue & 0x8000 != 0
            opcode = Opcode(UInt8((newValue >> 11) & 0x0F))
            authoritative = newValue & 0x0400 != 0
            truncated = newValue & 0x0200 != 0
            recursionDesired = newValue & 0x0100 != 0
            recursionAvailable = newValue & 0x0080 != 0
            authenticData = newValue & 0x0020 != 0
            checkingDisabled = newValue & 0x0010 != 0
            rcodeBits = UInt8(newValue & 0x0F)
        }
    }

    /// Flag bits as masks, for patching pre-rendered answers.
    package static let qrBit: UInt16 = 0x8000
    package static let aaBit: UInt16 = 0x0400
    package static let tcBit: UInt16 = 0x0200
    package static let rdBit: UInt16 = 0x0100
    package static let cdBit: UInt16 = 0x0010
}
