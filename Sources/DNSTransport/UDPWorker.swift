import Atomics
import CUDPBatch
import DNSEngine
import DNSWire
import Logging
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
import ZoneTransfer
#endif

/// The UDP fast path (docs/design.md#transport): one thread per socket, each socket
/// SO_REUSEPORT on the same address, as NSD runs one server process per core. A thread
/// receives a burst with recvmmsg, answers every datagram in place into a preallocated
/// slot from the engine's immutable snapshot, and sends the burst with one sendmmsg.
/// Nothing is allocated and no lock is taken for a cached answer; the only shared
/// writes are the metrics counters, added once per burst.
///
/// Dynamic names not yet cached leave the thread: the lookup runs as a task, and its
/// answer goes out through `UDPSocket.send` when the upstreams reply.
///
/// Cookies and rate limiting are part of the engine's plan (a slipped answer is a plan
/// variant), so they too are written in place, with no second pass over the bytes.
///
/// Measured against NIO's DatagramChannel with the same socket setup (docs/performance.md):
/// NIO's per-datagram envelope, address and pipeline work was most of the user time.
final class UDPWorker: Sendable {
    static let batch = 64
    /// Larger than any sane query; a longer datagram arrives cut (MSG_TRUNC) and is dropped.
    static let requestSlot = 4096

    let socket: UDPSocket
    private let engine: QueryEngine
    /// This socket's response-rate limiter, shared with its late answers (nil: off,
    /// and no lock is taken).
    private let limiter: NIOLockedValueBox<ResponseRateLimiter?>?
    /// Whether answers depend on the client's address and the time (cookies or RRL on).
    private let needsContext: Bool
    private let stopping = ManagedAtomic(false)
    private let logger: Logger
    /// IXFR over UDP and TSIG-signed queries (nil: not configured).
    private let transfers: ZoneTransferResponder?
    private let observer: TransferObserver

    init(
        socket: UDPSocket, engine: QueryEngine, rateLimit: ResponseRateLimiter.Configuration?,
        transfers: ZoneTransferResponder? = nil, logger: Logger
    ) {
        self.socket = socket
        self.engine = engine
        self.transfers = transfers
        self.observer = TransferObserver(logger: logger)
        self.limiter = rateLimit.map { NIOLockedValueBox(ResponseRateLimiter(configuration: $0)) }
        self.needsContext = rateLimit != nil || engine.configuration.cookies != nil
        self.logger = logger
    }

    /// Starts the thread; `onExit` runs on it when the loop has stopped.
    func start(onExit: @escaping @Sendable () -> Void) throws {
        try OSThread.spawn { [self] in
            serve()
            onExit()
        }
    }

    /// Asks the loop to stop and wakes it; the thread exits within a moment.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        socket.wakeReaders()
    }

    private func serve() {
        let batch = Batch(count: Self.batch, requestSlot: Self.requestSlot, responseSlot: responseSlotSize)
        defer { batch.deallocate() }
        var counts = ResponseMetrics.Tally()
        while !stopping.load(ordering: .relaxed) {
            let received = batch.receive(on: socket.descriptor)
            guard received > 0 else {
                if received < 0 { noteReceiveError(errno) }
                continue
            }
            // One clock reading per burst (cookie timestamps, RRL's seconds).
            let clock = needsContext ? Clock.now : Clock(unixTime: 0, nanoseconds: 0)
            var replies = 0
            for index in 0..<received {
                guard let request = batch.request(index) else { continue }
                let output = batch.responseSlot(replies)
                let context =
                    needsContext ? QueryContext(client: batch.clientAddress(index), unixTime: clock.unixTime) : .none
                // Transfers and signed requests are rare: one look at the question type
                // and the last additional record, then they leave the in-place path.
                if let transfers, ZoneTransferResponder.claims(request) {
                    let handled = answerTransfer(
                        request, responder: transfers, client: batch.client(index),
                        address: batch.clientAddress(index), output: output)
                    if let length = handled {
                        if length > 0 {
                            counts.count(response: UnsafeRawBufferPointer(rebasing: output[0..<length]))
                            batch.addReply(replies, length: length, to: index)
                            replies += 1
                        }
                        continue
                    }
                }
                let disposition = withLimiter {
                    engine.respond(
                        udp: request, into: output, context: context, limiter: &$0, nanoseconds: clock.nanoseconds)
                }
                switch disposition {
                case .response(let length):
                    counts.count(response: UnsafeRawBufferPointer(rebasing: output[0..<length]))
                    batch.addReply(replies, length: length, to: index)
                    replies += 1
                case .drop:
                    break
                case .lookup(let pending):
                    resolveLater(pending, request: request, client: batch.client(index), context: context)
                }
            }
            batch.send(replies, on: socket.descriptor)
            counts.flush(transport: .udp)
        }
    }

    /// Runs `body` with this socket's rate limiter (under its lock), or with none.
    @inline(__always)
    private func withLimiter<Result>(_ body: (inout ResponseRateLimiter?) -> Result) -> Result {
        guard let limiter else {
            var none: ResponseRateLimiter? = nil
            return body(&none)
        }
        return limiter.withLockedValue { body(&$0) }
    }

    /// A dynamic name not in the cache: look it up off this thread, answer when it returns.
    private func resolveLater(
        _ pending: PendingLookup, request: UnsafeRawBufferPointer, client: UDPClientAddress, context: QueryContext
    ) {
        resolveLater(pending, request: ByteBuffer(bytes: request), client: client, context: context, signer: nil)
    }

    private func resolveLater(
        _ pending: PendingLookup, request: ByteBuffer, client: UDPClientAddress, context: QueryContext,
        signer: TSIGSigner?
    ) {
        Task { [self] in
            let resolved = await engine.resolve(pending)
            let clock = needsContext ? Clock.now : Clock(unixTime: 0, nanoseconds: 0)
            var context = context
            context.unixTime = clock.unixTime
            let disposition = withLimiter {
                engine.respond(
                    to: request, transport: .udp, allocator: ByteBufferAllocator(), context: context,
                    resolved: resolved, limiter: &$0, nanoseconds: clock.nanoseconds)
            }
            guard case .response(let response) = disposition else { return }
            let bytes =
                signer.map { signer in
                    let limit = ZoneTransferResponder.udpLimit(
                        ofRequest: Array(request.readableBytesView), maxUDPPayload: responseSlotSize)
                    return ByteBuffer(
                        bytes: signer.signedAnswer(
                            Array(response.bytes.readableBytesView), limit: limit, now: UInt64(time(nil))))
                } ?? response.bytes
            ResponseMetrics.record(bytes, transport: .udp)
            socket.send(bytes, to: client)
        }
    }

    /// A transfer request or a signed query over UDP. Returns the length of the answer
    /// written into `output` (0: none, or sent later), or nil when the engine answers it
    /// as usual (unsigned, not a transfer).
    private func answerTransfer(
        _ request: UnsafeRawBufferPointer, responder: ZoneTransferResponder, client: UDPClientAddress,
        address: ClientAddress?, output: UnsafeMutableRawBufferPointer
    ) -> Int? {
        let now = UInt64(time(nil))
        switch responder.respond(to: request, transport: .udp, client: address, now: now) {
        case .notForUs:
            return nil
        case .reply(let bytes, let event):
            observer.record(event, client: address, transport: .udp)
            return copy(bytes, into: output)
        case .stream(_, let event):
            // Never over UDP (the responder answers UDP with one message).
            observer.record(event, client: address, transport: .udp)
            return 0
        case .query(let unsigned, let signer):
            let context = QueryContext(client: address, unixTime: UInt32(truncatingIfNeeded: now))
            switch engine.respond(
                to: ByteBuffer(bytes: unsigned), transport: .udp, allocator: ByteBufferAllocator(), context: context)
            {
            case .response(let response):
                // The client's size, not our slot's: the TSIG record must fit what it takes.
                let limit = ZoneTransferResponder.udpLimit(ofRequest: unsigned, maxUDPPayload: output.count)
                return copy(signer.signedAnswer(Array(response.bytes.readableBytesView), limit: limit, now: now), into: output)
            case .drop:
                return 0
            case .lookup(let pending):
                resolveLater(pending, request: ByteBuffer(bytes: unsigned), client: client, context: context, signer: signer)
                return 0
            }
        }
    }

    private func copy(_ bytes: [UInt8], into output: UnsafeMutableRawBufferPointer) -> Int {
        guard bytes.count <= output.count else { return 0 }
        output.copyBytes(from: bytes)
        return bytes.count
    }

    /// The largest UDP answer the engine writes (RFC 6891 6.2.5: never below 512).
    private var responseSlotSize: Int { max(512, engine.configuration.maxUDPPayload) }

    private func noteReceiveError(_ code: Int32) {
        switch code {
        case EAGAIN, EWOULDBLOCK, EINTR:
            return  // the receive timeout (to look at `stopping`) or a signal
        default:
            // ICMP errors from earlier sends and the like: nothing to do per datagram.
            // A pause, so an error that repeats (ENOMEM) cannot spin this thread.
            logger.debug("udp receive failed", metadata: ["error": "\(String(cString: strerror(code)))"])
            usleep(1000)
        }
    }
}

/// The buffers of one burst, allocated once per thread: request and response slots,
/// source addresses, and the mmsghdr/iovec arrays recvmmsg and sendmmsg read.
private struct Batch {
    let count: Int
    let requestSlot: Int
    let responseSlotSize: Int
    private let requests: UnsafeMutableRawPointer
    private let responses: UnsafeMutableRawPointer
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    private let incoming: UnsafeMutablePointer<onebz_mmsghdr>
    private let incomingVectors: UnsafeMutablePointer<iovec>
    private let outgoing: UnsafeMutablePointer<onebz_mmsghdr>
    private let outgoingVectors: UnsafeMutablePointer<iovec>

    init(count: Int, requestSlot: Int, responseSlot: Int) {
        self.count = count
        self.requestSlot = requestSlot
        self.responseSlotSize = responseSlot
        requests = .allocate(byteCount: count * requestSlot, alignment: 16)
        responses = .allocate(byteCount: count * responseSlot, alignment: 16)
        addresses = .allocate(capacity: count)
        addresses.initialize(repeating: sockaddr_storage(), count: count)
        incoming = .allocate(capacity: count)
        incoming.initialize(repeating: onebz_mmsghdr(), count: count)
        incomingVectors = .allocate(capacity: count)
        outgoing = .allocate(capacity: count)
        outgoing.initialize(repeating: onebz_mmsghdr(), count: count)
        outgoingVectors = .allocate(capacity: count)
        for index in 0..<count {
            incomingVectors[index] = iovec(iov_base: requests + index * requestSlot, iov_len: requestSlot)
            incoming[index].msg_hdr.msg_iov = incomingVectors + index
            incoming[index].msg_hdr.msg_iovlen = 1
            incoming[index].msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + index)
            outgoingVectors[index] = iovec(iov_base: responses + index * responseSlot, iov_len: 0)
            outgoing[index].msg_hdr.msg_iov = outgoingVectors + index
            outgoing[index].msg_hdr.msg_iovlen = 1
        }
    }

    func deallocate() {
        requests.deallocate()
        responses.deallocate()
        addresses.deallocate()
        incoming.deallocate()
        incomingVectors.deallocate()
        outgoing.deallocate()
        outgoingVectors.deallocate()
    }

    /// Blocks for at least one datagram; returns how many arrived (0 when woken to
    /// stop, -1 with errno on error or timeout).
    func receive(on descriptor: Int32) -> Int {
        for index in 0..<count {
            incoming[index].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            incoming[index].msg_hdr.msg_flags = 0
        }
        return Int(onebz_recvmmsg(descriptor, incoming, UInt32(count)))
    }

    /// The `index`th datagram, or nil when it was longer than its slot.
    func request(_ index: Int) -> UnsafeRawBufferPointer? {
        let header = incoming[index]
        guard header.msg_hdr.msg_flags & Int32(MSG_TRUNC) == 0 else { return nil }
        return UnsafeRawBufferPointer(start: requests + index * requestSlot, count: Int(header.msg_len))
    }

    /// The source IP of datagram `index`, read in place.
    func clientAddress(_ index: Int) -> ClientAddress? {
        ClientAddress(sockaddr: UnsafeRawPointer(addresses + index))
    }

    func client(_ index: Int) -> UDPClientAddress {
        UDPClientAddress(UnsafeRawPointer(addresses + index), length: incoming[index].msg_hdr.msg_namelen)
    }

    func responseSlot(_ reply: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: responses + reply * responseSlotSize, count: responseSlotSize)
    }

    /// Reply number `reply` is `length` bytes of its slot, to the source of datagram `index`.
    func addReply(_ reply: Int, length: Int, to index: Int) {
        outgoingVectors[reply].iov_len = length
        outgoing[reply].msg_hdr.msg_name = incoming[index].msg_hdr.msg_name
        outgoing[reply].msg_hdr.msg_namelen = incoming[index].msg_hdr.msg_namelen
    }

    /// Sends the first `replies` replies; a reply the kernel refuses is skipped.
    func send(_ replies: Int, on descriptor: Int32) {
        var sent = 0
        while sent < replies {
            let result = onebz_sendmmsg(descriptor, outgoing + sent, UInt32(replies - sent))
            if result > 0 {
                sent += Int(result)
            } else if result < 0 && errno == EINTR {
                continue
            } else {
                sent += 1  // this datagram failed (its error is the client's problem); go on
            }
        }
    }
}

/// The two clocks a burst needs: Unix seconds (server cookie timestamps) and monotonic
/// nanoseconds (RRL's seconds).
private struct Clock {
    let unixTime: UInt32
    let nanoseconds: UInt64

    static var now: Clock {
        Clock(unixTime: UInt32(truncatingIfNeeded: time(nil)), nanoseconds: NIODeadline.now().uptimeNanoseconds)
    }
}
