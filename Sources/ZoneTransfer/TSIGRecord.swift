import DNSEngine
import DNSWire

/// The TSIG pseudo-record (RFC 8945 4.2): owner = key name, class ANY, TTL 0.
public struct TSIGRecord: Sendable, Equatable {
    public static let type = RRType(250)

    public var keyName: Name
    public var algorithm: Name
    /// Seconds since the epoch, 48 bits.
    public var timeSigned: UInt64
    public var fudge: UInt16
    public var mac: [UInt8]
    public var originalID: UInt16
    public var error: TSIGErrorCode
    public var otherData: [UInt8]

    public init(
        keyName: Name, algorithm: Name, timeSigned: UInt64, fudge: UInt16, mac: [UInt8], originalID: UInt16,
        error: TSIGErrorCode = .noError, otherData: [UInt8] = []
    ) {
        self.keyName = keyName
        self.algorithm = algorithm
        self.timeSigned = timeSigned
        self.fudge = fudge
        self.mac = mac
        self.originalID = originalID
        self.error = error
        self.otherData = otherData
    }

    /// Reads the RDATA (names uncompressed, RFC 8945 4.2); nil when malformed.
    init?(keyName: Name, rdata raw: UnsafeRawBufferPointer) {
        guard let algorithmEnd = try? WireReader.skipUncompressedName(raw, at: 0),
            let algorithm = try? Name(wire: Array(raw[0..<algorithmEnd]))
        else { return nil }
        var offset = algorithmEnd
        func read16() -> UInt16? {
            guard let value = try? WireReader.u16(raw, at: offset) else { return nil }
            offset += 2
            return value
        }
        guard let high = read16(), let low = try? WireReader.u32(raw, at: offset) else { return nil }
        offset += 4
        guard let fudge = read16(), let macSize = read16(), offset + Int(macSize) <= raw.count else { return nil }
        let mac = Array(raw[offset..<offset + Int(macSize)])
        offset += Int(macSize)
        guard let originalID = read16(), let error = read16(), let otherLength = read16(),
            offset + Int(otherLength) == raw.count
        else { return nil }
        self.init(
            keyName: keyName, algorithm: algorithm, timeSigned: UInt64(high) << 32 | UInt64(low), fudge: fudge,
            mac: mac, originalID: originalID, error: TSIGErrorCode(error), otherData: Array(raw[offset...]))
    }

    /// The whole record in wire form, names uncompressed (lowercase: canonical).
    public var wire: [UInt8] {
        var bytes = keyName.lowercased.wire
        bytes.append(u16: Self.type.rawValue)
        bytes.append(u16: RRClass.any.rawValue)
        bytes += [0, 0, 0, 0]
        let rdata = self.rdata
        bytes.append(u16: UInt16(rdata.count))
        return bytes + rdata
    }

    var rdata: [UInt8] {
        var bytes = algorithm.lowercased.wire
        bytes.append(u48: timeSigned)
        bytes.append(u16: fudge)
        bytes.append(u16: UInt16(mac.count))
        bytes += mac
        bytes.append(u16: originalID)
        bytes.append(u16: error.rawValue)
        bytes.append(u16: UInt16(otherData.count))
        return bytes + otherData
    }

    /// The TSIG variables of the digest (RFC 8945 4.3.3).
    var variables: [UInt8] {
        var bytes = keyName.lowercased.wire
        bytes.append(u16: RRClass.any.rawValue)
        bytes += [0, 0, 0, 0]
        bytes += algorithm.lowercased.wire
        bytes.append(u48: timeSigned)
        bytes.append(u16: fudge)
        bytes.append(u16: error.rawValue)
        bytes.append(u16: UInt16(otherData.count))
        return bytes + otherData
    }

    /// The timer variables only (RFC 8945 4.3.1: messages after the first of a stream).
    var timers: [UInt8] {
        var bytes: [UInt8] = []
        bytes.append(u48: timeSigned)
        bytes.append(u16: fudge)
        return bytes
    }
}

/// The TSIG error field (RFC 8945 3, IANA DNS RCODEs).
public struct TSIGErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let noError = TSIGErrorCode(0)
    public static let badSig = TSIGErrorCode(16)
    public static let badKey = TSIGErrorCode(17)
    public static let badTime = TSIGErrorCode(18)
    public static let badTrunc = TSIGErrorCode(22)

    public var description: String {
        switch rawValue {
        case 0: "NOERROR"
        case 16: "BADSIG"
        case 17: "BADKEY"
        case 18: "BADTIME"
        case 22: "BADTRUNC"
        default: "TSIGERROR\(rawValue)"
        }
    }
}

extension [UInt8] {
    mutating func append(u16 value: UInt16) {
        append(UInt8(value >> 8))
        append(UInt8(value & 0xFF))
    }

    mutating func append(u48 value: UInt64) {
        for shift in stride(from: 40, through: 0, by: -8) { append(UInt8((value >> UInt64(shift)) & 0xFF)) }
    }
}
