import Atomics
import CUDPBatch
import DNSWire
import Logging
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The UDP fast path (DESIGN.md): one thread per socket, each socket SO_REUSEPORT on
/// the same address, as NSD runs one server process per core. A thread receives a burst
/// with recvmmsg, answers every datagram in place into a preallocated slot from the
/// engine's immutable snapshot, and sends the burst with one sendmmsg. Nothing is
/// allocated and no lock is taken for a cached answer; the only shared writes are the
/// metrics counters, added once per burst.
///
/// Dynamic names not yet cached leave the thread: the lookup runs as a task, and its
/// answer goes out through `UDPSocket.send` when the upstreams reply.
///
/// Measured against NIO's DatagramChannel with the same socket setup (docs/performance.md):
/// NIO's per-datagram envelope, address and pipeline work was most of the user time.
final class UDPWorker: Sendable {
    static let batch = 64
    /// Larger than any sane query; a longer datagram arrives cut (MSG_TRUNC) and is dropped.
    static let requestSlot = 4096

    let socket: UDPSocket
    private let engine: QueryEngine
    /// Cookies and rate limiting (nil: both off), shared with this socket's late answers.
    private let policy: NIOLockedValueBox<UDPResponsePolicy>?
    private let stopping = ManagedAtomic(false)
    private let logger: Logger

    init(socket: UDPSocket, engine: QueryEngine, policy: UDPResponsePolicy?, logger: Logger) {
        self.socket = socket
        self.engine = engine
        self.policy = policy.map(NIOLockedValueBox.init)
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
            var replies = 0
            for index in 0..<received {
                guard let request = batch.request(index) else { continue }
                let output = batch.responseSlot(replies)
                switch engine.respond(udp: request, into: output) {
                case .response(var length):
                    if let policy {
                        let client = batch.client(index)
                        guard
                            let finished = applyPolicy(
                                policy, request: request, response: output, length: length, from: client)
                        else { continue }
                        length = finished
                    }
                    counts.count(response: UnsafeRawBufferPointer(rebasing: output[0..<length]))
                    batch.addReply(replies, length: length, to: index)
                    replies += 1
                case .drop:
                    break
                case .lookup(let pending):
                    resolveLater(pending, request: request, client: batch.client(index))
                }
            }
            batch.send(replies, on: socket.descriptor)
            counts.flush(transport: .udp)
        }
    }

    /// Runs cookies and RRL over the answer in `response`, writing the result back into
    /// it: the new length, or nil to send nothing. Only with a policy configured.
    private func applyPolicy(
        _ policy: NIOLockedValueBox<UDPResponsePolicy>, request: UnsafeRawBufferPointer,
        response: UnsafeMutableRawBufferPointer, length: Int, from client: UDPClientAddress
    ) -> Int? {
        guard
            let finished = Self.finish(
                ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: response[0..<length])),
                request: ByteBuffer(bytes: request), client: client, policy: policy),
            finished.readableBytes <= response.count
        else { return nil }
        return finished.withUnsafeReadableBytes { bytes in
            UnsafeMutableRawBufferPointer(rebasing: response[0..<bytes.count]).copyMemory(from: bytes)
            return bytes.count
        }
    }

    /// A dynamic name not in the cache: look it up off this thread, answer when it returns.
    private func resolveLater(_ pending: PendingLookup, request: UnsafeRawBufferPointer, client: UDPClientAddress) {
        let request = ByteBuffer(bytes: request)
        Task { [engine, socket, policy] in
            guard
                case .response(var response) = await engine.respond(
                    to: request, transport: .udp, allocator: ByteBufferAllocator(), resolving: pending)
            else { return }
            if let policy {
                guard let finished = Self.finish(response, request: request, client: client, policy: policy)
                else { return }
                response = finished
            }
            ResponseMetrics.record(response, transport: .udp)
            socket.send(response, to: client)
        }
    }

    /// Cookies, then RRL, under the worker's policy lock (its late answers share the
    /// rate limiter): the response to send, or nil.
    private static func finish(
        _ response: ByteBuffer, request: ByteBuffer, client: UDPClientAddress,
        policy: NIOLockedValueBox<UDPResponsePolicy>
    ) -> ByteBuffer? {
        guard let address = client.socketAddress else { return nil }
        return policy.withLockedValue {
            $0.finish(response, request: request, client: address, allocator: ByteBufferAllocator())
        }
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
