/// Why a message could not be decoded or encoded. A struct wrapping a private code, so
/// new cases do not break callers (AsyncHTTPClient style).
public struct DNSWireError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case truncated, labelTooLong, nameTooLong, badLabelType, badPointer, pointerLoop
        case rdataLengthMismatch, badOPT, badText, tooLarge
    }
    private let code: Code
    /// Byte offset in the message where the problem was found (or 0 when not applicable).
    public let offset: Int
    private init(_ code: Code, at offset: Int) {
        self.code = code
        self.offset = offset
    }

    /// The message ends before a field it announces.
    public static func truncated(at offset: Int) -> Self { .init(.truncated, at: offset) }
    /// A label longer than 63 octets (RFC 1035 2.3.4).
    public static func labelTooLong(at offset: Int) -> Self { .init(.labelTooLong, at: offset) }
    /// A name longer than 255 octets in wire form (RFC 1035 2.3.4).
    public static func nameTooLong(at offset: Int) -> Self { .init(.nameTooLong, at: offset) }
    /// Label types 0b01 / 0b10 (RFC 6891 5: extended label types are gone).
    public static func badLabelType(at offset: Int) -> Self { .init(.badLabelType, at: offset) }
    /// A compression pointer that is out of range or does not point backwards.
    public static func badPointer(at offset: Int) -> Self { .init(.badPointer, at: offset) }
    /// Too many compression pointers followed for one name.
    public static func pointerLoop(at offset: Int) -> Self { .init(.pointerLoop, at: offset) }
    /// RDATA shorter or longer than its RDLENGTH says.
    public static func rdataLengthMismatch(at offset: Int) -> Self { .init(.rdataLengthMismatch, at: offset) }
    /// An OPT record not owned by the root, not in the additional section, or repeated.
    public static func badOPT(at offset: Int) -> Self { .init(.badOPT, at: offset) }
    /// A presentation-form name that cannot be parsed.
    public static let badText = DNSWireError(.badText, at: 0)
    /// An encoded message that exceeds 65535 octets.
    public static let tooLarge = DNSWireError(.tooLarge, at: 0)

    public var description: String { "DNS wire error \(code) at offset \(offset)" }
}
