import DNSEngine
import DNSWire
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import ZoneTransfer

#if canImport(Glibc)
    import Glibc
#endif

/// Sends NOTIFY (RFC 1996) to the configured secondaries when the zone's serial
/// changes (`serialChanged`), over UDP, signed with the target's TSIG key if it has
/// one; retries with a doubling delay until each target acknowledges (same ID, QR,
/// opcode NOTIFY, NOERROR, and a valid TSIG when signed). A newer serial supersedes an
/// unacknowledged older one. Logs and counts every outcome per target
/// (`onebz_dns_notify_total{target, outcome}`).
public final class NotifySender: Service, Sendable, CustomStringConvertible {
    public struct Target: Sendable {
        public var address: SocketAddress
        public var key: TSIGKey?

        public init(address: SocketAddress, key: TSIGKey?) {
            self.address = address
            self.key = key
        }
    }

    public struct Configuration: Sendable {
        public var targets: [Target]
        public var initialRetry: Duration
        public var maxRetry: Duration

        public init(targets: [Target], initialRetry: Duration = .seconds(1), maxRetry: Duration = .seconds(60)) {
            self.targets = targets
            self.initialRetry = initialRetry
            self.maxRetry = maxRetry
        }
    }

    private struct TargetState: Sendable {
        var schedule: NotifySchedule
        /// The signer of the last NOTIFY sent (verifies the acknowledgement's TSIG).
        var signer: TSIGSigner?
    }

    private let apex: Name
    private let soa: @Sendable () -> ResourceRecord?
    private let configuration: Configuration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let states: NIOLockedValueBox<[TargetState]>
    /// Rung by a new serial or the server starting to listen; the loop also wakes every
    /// 100 ms for retries that fall due.
    private let doorbell = Doorbell()
    /// Nothing is sent until the zone's own server listens (`serverListening()`): a
    /// secondary that gets our NOTIFY asks for the SOA and the transfer at once, and a
    /// refused connection then costs it its retry interval (Knot: 10 minutes).
    private let held: NIOLockedValueBox<Bool>

    /// `soa` gives the zone's current SOA (put in the answer section, RFC 1996 3.7).
    public init(
        apex: Name, soa: @escaping @Sendable () -> ResourceRecord?, configuration: Configuration,
        group: any EventLoopGroup, logger: Logger, holdUntilListening: Bool = false
    ) {
        self.held = NIOLockedValueBox(holdUntilListening)
        self.apex = apex
        self.soa = soa
        self.configuration = configuration
        self.group = group
        self.logger = logger
        let schedule = NotifySchedule(
            initialDelay: UInt64(max(1, configuration.initialRetry.nanoseconds)),
            maxDelay: UInt64(max(1, configuration.maxRetry.nanoseconds)))
        states = NIOLockedValueBox(
            configuration.targets.map { _ in TargetState(schedule: schedule, signer: nil) })
    }

    public var description: String { "NotifySender(\(configuration.targets.count) targets)" }

    /// The server answering for the zone is listening: NOTIFYs may go out.
    public func serverListening() {
        held.withLockedValue { $0 = false }
        doorbell.ring()
    }

    /// The zone now has `serial`: notify every target (again).
    public func serialChanged(_ serial: UInt32) {
        let now = NIODeadline.now().uptimeNanoseconds
        states.withLockedValue { states in
            for index in states.indices {
                if let old = states[index].schedule.announce(serial, id: .random(in: 0...UInt16.max), now: now) {
                    logger.info(
                        "notify superseded",
                        metadata: [
                            "target": "\(configuration.targets[index].address)", "serial": "\(old)",
                            "newSerial": "\(serial)",
                        ])
                }
            }
        }
        doorbell.ring()
    }

    public func run() async throws {
        guard !configuration.targets.isEmpty else { return }
        let channels = try await bind()
        defer { for channel in channels.values { channel.close(promise: nil) } }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if !self.held.withLockedValue({ $0 }) { self.sendDue(channels) }
                // Wake at the next deadline or on a new serial, at least every 100 ms.
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { try? await Task.sleep(for: .milliseconds(100)) }
                    group.addTask { [doorbell = self.doorbell] in await doorbell.wait() }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// One unbound UDP channel per address family the targets use.
    private func bind() async throws -> [Int32: any Channel] {
        var channels: [Int32: any Channel] = [:]
        for target in configuration.targets where channels[target.address.protocol.rawValue] == nil {
            let local = target.address.protocol == .inet6 ? "::" : "0.0.0.0"
            let channel = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(AcknowledgementHandler(sender: self))
                    }
                }
                .bind(host: local, port: 0).get()
            channels[target.address.protocol.rawValue] = channel
        }
        return channels
    }

    private func sendDue(_ channels: [Int32: any Channel]) {
        let now = NIODeadline.now().uptimeNanoseconds
        // The SOA only when a NOTIFY is due: reading it can mean assembling the zone's
        // current version (the materialised zone), and the loop wakes every 100 ms.
        guard states.withLockedValue({ $0.contains { $0.schedule.isDue(now: now) } }) else { return }
        let soa = self.soa()
        var outgoing: [(Int, ByteBuffer, UInt32, Int)] = []
        states.withLockedValue { states in
            for index in states.indices where states[index].schedule.isDue(now: now) {
                guard let serial = states[index].schedule.serial else { continue }
                let target = configuration.targets[index]
                var message = Self.notifyMessage(id: states[index].schedule.id, apex: apex, soa: soa)
                if let key = target.key {
                    var signer = TSIGSigner.forRequest(key: key)
                    signer.sign(&message, now: UInt64(time(nil)))
                    states[index].signer = signer
                }
                states[index].schedule.sent(now: now)
                outgoing.append((index, ByteBuffer(bytes: message), serial, states[index].schedule.attempts))
            }
        }
        for (index, message, serial, attempt) in outgoing {
            let target = configuration.targets[index]
            guard let channel = channels[target.address.protocol.rawValue] else { continue }
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: target.address, data: message), promise: nil)
            count(target, "sent")
            logger.log(
                level: attempt == 1 ? .info : .notice, "notify sent",
                metadata: ["target": "\(target.address)", "serial": "\(serial)", "attempt": "\(attempt)"])
        }
    }

    /// A datagram from a target: an acknowledgement if it matches the pending NOTIFY.
    fileprivate func received(_ datagram: ByteBuffer, from address: SocketAddress) {
        let bytes = Array(datagram.readableBytesView)
        guard bytes.count >= 12, let index = configuration.targets.firstIndex(where: { $0.address == address })
        else { return }
        let target = configuration.targets[index]
        let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let isResponse = bytes[2] & 0x80 != 0
        let opcode = (bytes[2] >> 3) & 0x0F
        let rcode = Rcode(UInt16(bytes[3] & 0x0F))
        guard isResponse, opcode == Opcode.notify.rawValue else { return }
        let outcome: String
        var serial: UInt32? = nil
        var problem: String? = nil
        states.withLockedValue { states in
            guard id == states[index].schedule.id, states[index].schedule.serial != nil else {
                problem = "not the pending NOTIFY"
                return
            }
            if let signer = states[index].signer,
                !bytes.withUnsafeBytes({ signer.verifiesResponse($0) })
            {
                problem = "TSIG of the answer does not verify"
                return
            }
            guard rcode == .noError else {
                problem = "answered \(rcode)"
                return
            }
            serial = states[index].schedule.acknowledge(id: id)
        }
        if let serial {
            outcome = "acknowledged"
            logger.info("notify acknowledged", metadata: ["target": "\(target.address)", "serial": "\(serial)"])
        } else {
            outcome = rcode == .noError ? "ignored" : "error"
            logger.notice(
                "notify answer not accepted",
                metadata: ["target": "\(target.address)", "rcode": "\(rcode)", "reason": "\(problem ?? "-")"])
        }
        count(target, outcome)
    }

    private func count(_ target: Target, _ outcome: String) {
        Counter(label: "onebz_dns_notify_total", dimensions: [("target", "\(target.address)"), ("outcome", outcome)])
            .increment()
    }

    /// NOTIFY (RFC 1996 3.7): opcode NOTIFY, AA, question (apex, SOA), the SOA as answer.
    static func notifyMessage(id: UInt16, apex: Name, soa: ResourceRecord?) -> [UInt8] {
        var header = Header()
        header.id = id
        header.opcode = .notify
        header.authoritative = true
        let message = Message(
            header: header, questions: [Question(name: apex, type: .soa, rrClass: .in)],
            answers: soa.map { [$0] } ?? [])
        return (try? message.encoded()) ?? []
    }
}

/// Hands datagrams to the sender.
private final class AcknowledgementHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let sender: NotifySender

    init(sender: NotifySender) { self.sender = sender }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        sender.received(envelope.data, from: envelope.remoteAddress)
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
