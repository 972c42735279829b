import DNSEngine
import DNSWire

/// TSIG (RFC 8945) for a server: verifies signed requests and signs their responses,
/// one message or a stream of them. Pure: the time is an argument.
public enum TSIG {
    /// RFC 8945 10: 300 seconds.
    public static let defaultFudge: UInt16 = 300

    /// Where a request's TSIG record sits, if it has one.
    struct Located {
        /// Offset of the TSIG record: the request without it is `raw[0..<start]`.
        var start: Int
        var record: TSIGRecord
    }

    /// Finds the TSIG record, which must be the last additional record (RFC 8945 5.1).
    /// nil: unsigned. Throws when the message cannot be walked or a TSIG record is
    /// misplaced, repeated or malformed (FORMERR).
    static func locate(_ raw: UnsafeRawBufferPointer) throws(DNSWireError) -> Located? {
        guard raw.count >= 12 else { throw .truncated(at: raw.count) }
        let counts = stride(from: 4, to: 12, by: 2).map { Int(raw[$0]) << 8 | Int(raw[$0 + 1]) }
        var offset = 12
        for _ in 0..<counts[0] { offset = try WireReader.walkName(raw, at: offset) + 4 }
        let records = counts[1] + counts[2] + counts[3]
        var found: Located? = nil
        for index in 0..<records {
            let start = offset
            let next = try WireReader.walkName(raw, at: offset)
            let type = try WireReader.u16(raw, at: next)
            let rdLength = Int(try WireReader.u16(raw, at: next + 8))
            let rdStart = next + 10
            guard rdStart + rdLength <= raw.count else { throw .truncated(at: rdStart) }
            offset = rdStart + rdLength
            guard type == TSIGRecord.type.rawValue else { continue }
            let isLast = index == records - 1 && index >= counts[1] + counts[2]
            let (owner, _) = try WireReader.readName(raw, at: start)
            guard isLast, try WireReader.u16(raw, at: next + 2) == RRClass.any.rawValue,
                let record = TSIGRecord(keyName: owner, rdata: UnsafeRawBufferPointer(rebasing: raw[rdStart..<offset]))
            else { throw .badOPT(at: start) }
            found = Located(start: start, record: record)
        }
        return found
    }

    /// Cheap test for the transports: does the last additional record look like TSIG?
    /// Walks the message without copying; false for anything it cannot walk.
    @inline(__always)
    public static func isSigned(_ raw: UnsafeRawBufferPointer) -> Bool {
        guard raw.count >= 12, raw[10] != 0 || raw[11] != 0 else { return false }
        return (try? locateType(raw)) == TSIGRecord.type.rawValue
    }

    private static func locateType(_ raw: UnsafeRawBufferPointer) throws(DNSWireError) -> UInt16? {
        var offset = 12
        let questions = Int(raw[4]) << 8 | Int(raw[5])
        for _ in 0..<questions { offset = try WireReader.walkName(raw, at: offset) + 4 }
        let records = (Int(raw[6]) << 8 | Int(raw[7])) + (Int(raw[8]) << 8 | Int(raw[9]))
            + (Int(raw[10]) << 8 | Int(raw[11]))
        var type: UInt16? = nil
        for _ in 0..<records {
            let next = try WireReader.walkName(raw, at: offset)
            type = try WireReader.u16(raw, at: next)
            offset = next + 10 + Int(try WireReader.u16(raw, at: next + 8))
        }
        return type
    }

    /// The outcome of checking a request's TSIG.
    public enum Verification: Sendable {
        /// No TSIG record.
        case unsigned
        /// Valid: `request` is the message without its TSIG record (ARCOUNT lowered);
        /// sign every response message with `signer`.
        case verified(request: [UInt8], signer: TSIGSigner)
        /// RFC 8945 5.2: answer `response` (NOTAUTH with the TSIG error; signed only for
        /// BADTIME) and nothing else.
        case rejected(response: [UInt8], error: TSIGErrorCode, keyName: Name)
        /// Unparseable or misplaced TSIG: FORMERR.
        case malformed
    }

    /// Verifies a request against `keys` at `now` (Unix seconds): key, then MAC, then
    /// time (RFC 8945 5.2).
    public static func verify(_ raw: UnsafeRawBufferPointer, keys: TSIGKeyring, now: UInt64) -> Verification {
        let located: Located
        do {
            guard let found = try locate(raw) else { return .unsigned }
            located = found
        } catch {
            return .malformed
        }
        let tsig = located.record
        let questionEnd = Self.questionEnd(raw)
        guard let key = keys[tsig.keyName], key.algorithm.name == tsig.algorithm else {
            return .rejected(
                response: errorResponse(raw, questionEnd: questionEnd, tsig: tsig, error: .badKey, signer: nil),
                error: .badKey, keyName: tsig.keyName)
        }
        // RFC 8945 5.2.2.1: a MAC shorter than half the hash (or 10 octets) is FORMERR;
        // we accept only full-length MACs, so a truncated one is BADTRUNC.
        let minimum = max(10, key.algorithm.macLength / 2)
        guard tsig.mac.count >= minimum, tsig.mac.count <= key.algorithm.macLength else { return .malformed }
        guard tsig.mac.count == key.algorithm.macLength else {
            return .rejected(
                response: errorResponse(raw, questionEnd: questionEnd, tsig: tsig, error: .badTrunc, signer: nil),
                error: .badTrunc, keyName: tsig.keyName)
        }
        var unsigned = Array(raw[0..<located.start])
        setCount(&unsigned, at: 10, to: count(raw, at: 10) - 1)
        var digested = unsigned
        digested[0] = UInt8(tsig.originalID >> 8)
        digested[1] = UInt8(tsig.originalID & 0xFF)
        let expected = key.mac([digested[...], tsig.variables[...]])
        guard constantTimeEqual(expected, tsig.mac) else {
            return .rejected(
                response: errorResponse(raw, questionEnd: questionEnd, tsig: tsig, error: .badSig, signer: nil),
                error: .badSig, keyName: tsig.keyName)
        }
        let signer = TSIGSigner(key: key, requestMAC: tsig.mac, fudge: tsig.fudge)
        let skew = now > tsig.timeSigned ? now - tsig.timeSigned : tsig.timeSigned - now
        guard skew <= UInt64(tsig.fudge) else {
            return .rejected(
                response: errorResponse(raw, questionEnd: questionEnd, tsig: tsig, error: .badTime, signer: signer, now: now),
                error: .badTime, keyName: tsig.keyName)
        }
        return .verified(request: unsigned, signer: signer)
    }

    /// NOTAUTH with the TSIG error (RFC 8945 5.2): unsigned (MAC size 0) for BADKEY,
    /// BADSIG and BADTRUNC; for BADTIME signed, with the request's time and ours in
    /// Other Data (5.2.3).
    static func errorResponse(
        _ raw: UnsafeRawBufferPointer, questionEnd: Int?, tsig: TSIGRecord, error: TSIGErrorCode,
        signer: TSIGSigner?, now: UInt64 = 0
    ) -> [UInt8] {
        var message = responseHeader(raw, rcode: .notAuth, questionEnd: questionEnd)
        if var signer, error == .badTime {
            var other: [UInt8] = []
            other.append(u48: now)
            signer.sign(&message, now: tsig.timeSigned, error: error, otherData: other)
            return message
        }
        let record = TSIGRecord(
            keyName: tsig.keyName, algorithm: tsig.algorithm, timeSigned: tsig.timeSigned, fudge: tsig.fudge, mac: [],
            originalID: UInt16(raw[0]) << 8 | UInt16(raw[1]), error: error)
        message += record.wire
        setCount(&message, at: 10, to: 1)
        return message
    }

    /// A response header (QR, the request's opcode and RD) and the question echoed.
    static func responseHeader(_ raw: UnsafeRawBufferPointer, rcode: Rcode, questionEnd: Int?) -> [UInt8] {
        let flags = (UInt16(raw[2]) << 8 | UInt16(raw[3])) & 0x7900 | Header.qrBit | UInt16(rcode.headerBits)
        var message: [UInt8] = [raw[0], raw[1], UInt8(flags >> 8), UInt8(flags & 0xFF), 0, 0, 0, 0, 0, 0, 0, 0]
        if let questionEnd {
            message[5] = 1
            message += raw[12..<questionEnd]
        }
        return message
    }

    /// The end of the single question, if the request has exactly one readable question.
    static func questionEnd(_ raw: UnsafeRawBufferPointer) -> Int? {
        guard raw.count >= 12, raw[4] == 0, raw[5] == 1,
            let nameEnd = try? WireReader.skipUncompressedName(raw, at: 12), nameEnd + 4 <= raw.count
        else { return nil }
        return nameEnd + 4
    }

    static func count(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int {
        Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
    }

    static func count(_ bytes: [UInt8], at offset: Int) -> Int {
        Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
    }

    static func setCount(_ bytes: inout [UInt8], at offset: Int, to value: Int) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(value & 0xFF)
    }

    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}

/// Signs the responses to one verified request (RFC 8945 5.3): the first with the
/// request's MAC, each later message of a TCP stream with the previous message's MAC
/// (5.3.1). Every message is signed.
public struct TSIGSigner: Sendable {
    public let key: TSIGKey
    private var priorMAC: [UInt8]
    private var signedMessages = 0
    private let fudge: UInt16

    public init(key: TSIGKey, requestMAC: [UInt8], fudge: UInt16 = TSIG.defaultFudge) {
        self.key = key
        self.priorMAC = requestMAC
        self.fudge = fudge
    }

    /// A signer for a request we send (NOTIFY): no prior MAC.
    public static func forRequest(key: TSIGKey) -> TSIGSigner { TSIGSigner(key: key, requestMAC: []) }

    /// Appends the TSIG record to `message` (a complete message without one) and bumps
    /// ARCOUNT.
    public mutating func sign(
        _ message: inout [UInt8], now: UInt64, error: TSIGErrorCode = .noError, otherData: [UInt8] = []
    ) {
        var record = TSIGRecord(
            keyName: key.name, algorithm: key.algorithm.name, timeSigned: now, fudge: fudge, mac: [],
            originalID: UInt16(message[0]) << 8 | UInt16(message[1]), error: error, otherData: otherData)
        var prefix: [UInt8] = []
        if !priorMAC.isEmpty || signedMessages > 0 {
            prefix.append(u16: UInt16(priorMAC.count))
            prefix += priorMAC
        }
        let variables = signedMessages == 0 ? record.variables : record.timers
        record.mac = key.mac([prefix[...], message[...], variables[...]])
        priorMAC = record.mac
        signedMessages += 1
        message += record.wire
        TSIG.setCount(&message, at: 10, to: TSIG.count(message, at: 10) + 1)
    }

    /// Checks the TSIG of a response to a request we signed (NOTIFY acknowledgements):
    /// true when the MAC matches.
    public func verifiesResponse(_ raw: UnsafeRawBufferPointer) -> Bool {
        guard let located = try? TSIG.locate(raw), located.record.keyName == key.name,
            located.record.error == .noError
        else { return false }
        let tsig = located.record
        var unsigned = Array(raw[0..<located.start])
        TSIG.setCount(&unsigned, at: 10, to: TSIG.count(raw, at: 10) - 1)
        unsigned[0] = UInt8(tsig.originalID >> 8)
        unsigned[1] = UInt8(tsig.originalID & 0xFF)
        var prefix: [UInt8] = []
        prefix.append(u16: UInt16(priorMAC.count))
        prefix += priorMAC
        return TSIG.constantTimeEqual(key.mac([prefix[...], unsigned[...], tsig.variables[...]]), tsig.mac)
    }
}
