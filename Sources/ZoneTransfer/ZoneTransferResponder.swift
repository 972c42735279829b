import DNSEngine
import DNSWire

/// Answers zone transfer requests (AXFR RFC 5936, IXFR RFC 1995) from a
/// `ZoneTransferSource`, and TSIG-signed requests of any kind (RFC 8945): pure, the
/// client's address and the time are arguments. The transports ask `claims` first (a
/// cheap look at the question type and the last additional record) so plain queries
/// never come here; the UDP fast path keeps its in-place answers.
public struct ZoneTransferResponder: Sendable {
    public struct Configuration: Sendable {
        public var keys: TSIGKeyring
        public var acl: TransferACL
        /// The target size of one TCP message of a transfer (RFC 5936 2.2 leaves it to
        /// the server; 16 KiB as Knot).
        public var messageSize: Int
        /// Our largest UDP answer (IXFR over UDP larger than this or the client's EDNS
        /// size falls back to the current SOA alone, RFC 1995 2).
        public var maxUDPPayload: Int

        public init(keys: TSIGKeyring, acl: TransferACL, messageSize: Int = 16_384, maxUDPPayload: Int = 1232) {
            self.keys = keys
            self.acl = acl
            self.messageSize = messageSize
            self.maxUDPPayload = maxUDPPayload
        }
    }

    public let apex: Name
    public let source: any ZoneTransferSource
    public let configuration: Configuration
    /// RFC 2136 updates of the served zones (nil: every UPDATE is REFUSED by the engine).
    package var updates: UpdateResponder?

    public init(apex: Name, source: any ZoneTransferSource, configuration: Configuration) {
        self.apex = apex
        self.source = source
        self.configuration = configuration
    }

    /// What the transport does with a request.
    public enum Outcome {
        /// Neither a transfer nor signed: the query engine answers it as usual.
        case notForUs
        /// A valid signed request that is not a transfer: the engine answers `request`
        /// (the TSIG record removed), and the transport signs the answer with `signer`.
        case query(request: [UInt8], signer: TSIGSigner)
        /// One message to send (a refusal, an error, the current SOA, IXFR over UDP).
        case reply([UInt8], TransferEvent)
        /// A transfer over TCP: send `stream.next(now:)` until it returns nil.
        case stream(TransferStream, TransferEvent)
    }

    /// What happened, for the transport's log and metrics.
    public struct TransferEvent: Sendable, CustomStringConvertible {
        public var type: RRType
        public var rcode: Rcode
        /// Set for a transfer served.
        public var kind: TransferKind?
        /// Set for a refused or failed request: why.
        public var refusal: String?
        /// The TSIG key the request was signed with (verified, or the one it claimed).
        public var key: Name?
        public var serial: UInt32?
        /// The serial an IXFR asked from.
        public var clientSerial: UInt32?
        /// An RFC 2136 update (applied when `refusal` is nil; `serial` is the zone's after it).
        public var isUpdate = false

        public var description: String {
            var parts = ["\(type)", "\(rcode)"]
            if let kind { parts.append(kind.rawValue) }
            if let refusal { parts.append(refusal) }
            return parts.joined(separator: " ")
        }
    }

    /// Whether the request needs this responder: an AXFR/IXFR question or a TSIG record.
    @inline(__always)
    public static func claims(_ raw: UnsafeRawBufferPointer) -> Bool {
        // A response (QR=1) is never answered, whatever it asks (RFC 1035 4.1.1): the
        // engine drops it. Answering one lets a spoofed packet bounce between servers.
        guard !isResponse(raw) else { return false }
        if let type = questionType(raw), type == .axfr || type == .ixfr { return true }
        return isUpdate(raw) || TSIG.isSigned(raw)
    }

    /// Opcode UPDATE (RFC 2136 2.2).
    @inline(__always)
    static func isUpdate(_ raw: UnsafeRawBufferPointer) -> Bool {
        (raw[2] >> 3) & 0x0F == Opcode.update.rawValue
    }

    @inline(__always)
    static func isResponse(_ raw: UnsafeRawBufferPointer) -> Bool {
        raw.count < 12 || raw[2] & 0x80 != 0
    }

    /// The end of a message's single question (nil: not exactly one readable question).
    public static func questionEnd(of message: [UInt8]) -> Int? {
        message.withUnsafeBytes { TSIG.questionEnd($0) }
    }

    static func questionType(_ raw: UnsafeRawBufferPointer) -> RRType? {
        guard let end = TSIG.questionEnd(raw) else { return nil }
        return RRType(UInt16(raw[end - 4]) << 8 | UInt16(raw[end - 3]))
    }

    /// Answers one request arriving on `transport` from `client` at `now` (Unix seconds);
    /// `channel` says whether the connection is TLS (XoT) and with which client key.
    public func respond(
        to raw: UnsafeRawBufferPointer, transport: Transport, client: ClientAddress?, now: UInt64,
        channel: ChannelSecurity = .none
    ) -> Outcome {
        guard !Self.isResponse(raw) else { return .notForUs }
        let type = Self.questionType(raw) ?? RRType(0)
        var event = TransferEvent(type: type, rcode: .noError)
        let request: [UInt8]
        var signer: TSIGSigner? = nil
        switch TSIG.verify(raw, keys: configuration.keys, now: now) {
        case .unsigned:
            if let updates, Self.isUpdate(raw) {
                return update(Array(raw), updates, signer: nil, now: now, event: event)
            }
            guard type == .axfr || type == .ixfr else { return .notForUs }
            request = Array(raw)
        case .verified(let unsigned, let verifiedSigner):
            request = unsigned
            signer = verifiedSigner
            event.key = verifiedSigner.key.name
            if let updates, Self.isUpdate(raw) {
                return update(unsigned, updates, signer: verifiedSigner, now: now, event: event)
            }
            guard type == .axfr || type == .ixfr else { return .query(request: unsigned, signer: verifiedSigner) }
        case .rejected(let response, let error, let keyName):
            event.rcode = .notAuth
            event.key = keyName
            event.refusal = "TSIG \(error)"
            return .reply(response, event)
        case .malformed:
            event.refusal = "malformed TSIG record"
            return error(.formErr, request: Array(raw), signer: nil, now: now, event: event)
        }
        return transfer(
            request, type: type, transport: transport, client: client, channel: channel, signer: signer, now: now,
            event: event)
    }

    private func transfer(
        _ request: [UInt8], type: RRType, transport: Transport, client: ClientAddress?, channel: ChannelSecurity,
        signer: TSIGSigner?, now: UInt64, event: TransferEvent
    ) -> Outcome {
        var event = event
        guard let message = try? Message(decoding: request), message.questions.count == 1,
            message.header.opcode == .query
        else {
            event.refusal = "malformed request"
            return error(.formErr, request: request, signer: signer, now: now, event: event)
        }
        // RFC 5936 4.2: AXFR is not defined over UDP.
        if type == .axfr, transport == .udp {
            event.refusal = "AXFR over UDP"
            return error(.refused, request: request, signer: signer, now: now, event: event)
        }
        if let denial = configuration.acl.denial(client: client, key: signer?.key.name, channel: channel) {
            event.refusal = denial
            return error(.refused, request: request, signer: signer, now: now, event: event)
        }
        let question = message.questions[0]
        guard question.name == apex, question.rrClass == .in else {
            event.refusal = "not the zone \(apex)"
            return error(.notAuth, request: request, signer: signer, now: now, event: event)
        }
        guard let version = source.currentVersion() else {
            event.refusal = "the zone is not ready"
            return error(.servFail, request: request, signer: signer, now: now, event: event)
        }
        event.serial = version.serial
        var records = TransferRecords.full(version)
        var kind = TransferKind.axfr
        if type == .ixfr {
            // RFC 1995 3: the client's SOA is in the authority section.
            guard let soa = message.authorities.first(where: { $0.type == .soa }),
                let clientSerial = SerialNumber.of(soa: soa)
            else {
                event.refusal = "IXFR without the client's SOA"
                return error(.formErr, request: request, signer: signer, now: now, event: event)
            }
            event.clientSerial = clientSerial
            // Up to date when the client's serial is ours or newer. Exactly 2^31 apart
            // is undefined (RFC 1982 3.2): the client gets the zone rather than being
            // told it is current, as Knot does (`serial_compare` INCOMPARABLE).
            let order = SerialNumber.compare(clientSerial, version.serial)
            if order == .equal || order == .greater {
                kind = .upToDate
                records = TransferRecords(head: [version.soa])
            } else if let differences = source.differences(since: clientSerial), !differences.isEmpty {
                kind = .ixfr
                records = TransferRecords.incremental(differences, current: version.soa)
            }
        }
        event.kind = kind
        let header = (id: UInt16(request[0]) << 8 | UInt16(request[1]), flags: message.header.flags)
        if transport == .udp {
            let limit = udpLimit(message)
            var stream = TransferStream(
                kind: kind, serial: version.serial, records: records, id: header.id, requestFlags: header.flags,
                question: question, signer: signer, messageSize: limit)
            let messages = stream.collect(now: now)
            if messages.count == 1, messages[0].count <= limit { return .reply(messages[0], event) }
            // RFC 1995 2: too large for UDP: the current SOA alone, the client retries over TCP.
            event.kind = .upToDate
            var single = TransferStream(
                kind: .upToDate, serial: version.serial, records: TransferRecords(head: [version.soa]), id: header.id,
                requestFlags: header.flags, question: question, signer: signer, messageSize: limit)
            return .reply(single.next(now: now) ?? [], event)
        }
        let stream = TransferStream(
            kind: kind, serial: version.serial, records: records, id: header.id, requestFlags: header.flags,
            question: question, signer: signer, messageSize: configuration.messageSize)
        return .stream(stream, event)
    }

    /// RFC 2136: applies the update (all or nothing) and answers with the zone section
    /// echoed, signed with the request's key when it was signed (RFC 8945 5.3).
    private func update(
        _ request: [UInt8], _ updates: UpdateResponder, signer: TSIGSigner?, now: UInt64, event: TransferEvent
    ) -> Outcome {
        var event = event
        event.isUpdate = true
        guard let message = try? Message(decoding: request) else {
            event.refusal = "malformed update"
            return error(.formErr, request: request, signer: signer, now: now, event: event)
        }
        let verdict = updates.apply(message, key: signer?.key.name, now: UInt32(truncatingIfNeeded: now))
        event.refusal = verdict.reason
        event.serial = verdict.serial
        return error(verdict.rcode, request: request, signer: signer, now: now, event: event)
    }

    /// The client's UDP size (RFC 6891 6.2.5: at least 512), capped by ours.
    private func udpLimit(_ message: Message) -> Int {
        guard let edns = message.edns else { return 512 }
        return max(512, min(Int(edns.udpPayloadSize), configuration.maxUDPPayload))
    }

    private func error(
        _ rcode: Rcode, request: [UInt8], signer: TSIGSigner?, now: UInt64, event: TransferEvent
    ) -> Outcome {
        var event = event
        event.rcode = rcode
        var response = request.withUnsafeBytes { raw in
            TSIG.responseHeader(raw, rcode: rcode, questionEnd: TSIG.questionEnd(raw))
        }
        if var signer { signer.sign(&response, now: now) }
        return .reply(response, event)
    }
}
