import DNSEngine
import DNSWire

/// The messages of one transfer answer, produced one at a time (never the whole zone
/// at once): records are packed into messages of at most `messageSize` octets with
/// name compression, the question in the first message only (RFC 5936 2.2), and
/// every message signed when the request was (RFC 8945 5.3.1).
///
/// Not Sendable: it holds the zone version's record iterator; it lives on the one
/// event loop of its connection.
public struct TransferStream {
    public let kind: TransferKind
    /// The serial served.
    public let serial: UInt32
    private var records: TransferRecords
    private var pending: ResourceRecord?
    private var exhausted = false
    private var first = true
    private let header: (id: UInt16, flags: UInt16)
    private let question: Question
    private var signer: TSIGSigner?
    private let messageSize: Int
    public private(set) var messageCount = 0
    public private(set) var recordCount = 0
    public private(set) var byteCount = 0

    init(
        kind: TransferKind, serial: UInt32, records: TransferRecords, id: UInt16, requestFlags: UInt16,
        question: Question, signer: TSIGSigner?, messageSize: Int
    ) {
        self.kind = kind
        self.serial = serial
        self.records = records
        // QR, AA, the request's opcode and RD.
        self.header = (id, requestFlags & 0x7900 | Header.qrBit | Header.aaBit)
        self.question = question
        self.signer = signer
        self.messageSize = messageSize
    }

    /// Room kept for the TSIG record of each message.
    static let tsigReserve = 256

    /// The next message, signed at `now` when the request was signed; nil when done.
    public mutating func next(now: UInt64) -> [UInt8]? {
        guard !exhausted || pending != nil || first else { return nil }
        var encoder = MessageEncoder()
        encoder.write(header.id)
        encoder.write(header.flags)
        encoder.write(UInt16(first ? 1 : 0))
        encoder.write(UInt32(0))  // ANCOUNT, NSCOUNT: patched below
        encoder.write(UInt16(0))
        if first { encoder.write(question: question) }
        first = false
        let limit = messageSize - (signer == nil ? 0 : Self.tsigReserve)
        var count = 0
        while true {
            let record: ResourceRecord
            if let held = pending {
                record = held
                pending = nil
            } else if let fresh = nextRecord() {
                record = fresh
            } else {
                break
            }
            // The uncompressed size bounds the written one.
            let worst = record.name.wire.count + 10 + record.rdata.count
            if count > 0, encoder.bytes.count + worst > limit {
                pending = record
                break
            }
            encoder.write(record: record)
            count += 1
        }
        var message = encoder.bytes
        TSIG.setCount(&message, at: 6, to: count)
        if signer != nil { signer!.sign(&message, now: now) }
        messageCount += 1
        recordCount += count
        byteCount += message.count
        return message
    }

    /// Whether every message has been produced.
    public var isFinished: Bool { !first && exhausted && pending == nil }

    private mutating func nextRecord() -> ResourceRecord? {
        guard !exhausted else { return nil }
        if let record = records.next() { return record }
        exhausted = true
        return nil
    }

    /// All messages at once (UDP answers and tests).
    public mutating func collect(now: UInt64) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        while let message = next(now: now) { messages.append(message) }
        return messages
    }
}

/// What kind of answer a transfer got.
public enum TransferKind: String, Sendable {
    /// The whole zone (AXFR, or IXFR answered AXFR-style).
    case axfr
    /// Incremental: the differences since the client's serial.
    case ixfr
    /// IXFR of a serial not older than ours: the current SOA alone.
    case upToDate = "up-to-date"
}

/// The records of a transfer answer in order: the records before the zone's, the
/// version's own iterator (a full zone, produced on demand), the records after.
struct TransferRecords: IteratorProtocol {
    private var head: ArraySlice<ResourceRecord>
    private var zone: (any IteratorProtocol<ResourceRecord>)?
    private var tail: ArraySlice<ResourceRecord>

    init(
        head: [ResourceRecord], zone: (any IteratorProtocol<ResourceRecord>)? = nil, tail: [ResourceRecord] = []
    ) {
        self.head = head[...]
        self.zone = zone
        self.tail = tail[...]
    }

    /// AXFR (RFC 5936 2.2): the SOA, every record, the SOA again.
    static func full(_ version: any ZoneVersion) -> TransferRecords {
        TransferRecords(head: [version.soa], zone: version.makeRecordIterator(), tail: [version.soa])
    }

    /// IXFR (RFC 1995 4): the new SOA, then per difference the old SOA, deletions, the
    /// new SOA, additions; the new SOA last.
    static func incremental(_ differences: [ZoneDifference], current: ResourceRecord) -> TransferRecords {
        var records: [ResourceRecord] = [current]
        for difference in differences {
            records.append(difference.oldSOA)
            records += difference.removed
            records.append(difference.newSOA)
            records += difference.added
        }
        records.append(current)
        return TransferRecords(head: records)
    }

    mutating func next() -> ResourceRecord? {
        if let record = head.popFirst() { return record }
        if zone != nil {
            if let record = zone!.next() { return record }
            zone = nil
        }
        return tail.popFirst()
    }
}
