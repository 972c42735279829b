import DNSEngine
import DNSTestSupport
import DNSTransport
import DNSWire
import Foundation
import Testing

/// The UDP fast path (recvmmsg/sendmmsg worker threads) in-process on an ephemeral port,
/// driven by plain blocking sockets: bursts must come back to the right client with the
/// engine's exact bytes, and hostile datagrams must not stop the socket.
@Suite(.timeLimit(.minutes(3))) struct UDPFastPathTests {
    /// Sixteen sockets each fire 64 queries without waiting (so the server receives full
    /// bursts); every answer must reach the socket that asked, byte-identical to what
    /// the engine answers for that request.
    @Test func burstsAnswerEveryClientWithTheEnginesBytes() async throws {
        let engine = QueryEngine(zone: EngineFixture.shippedZone)
        try await InProcessDNSServer.run(engine: engine) { port in
            let names = ["www.1bz", "WwW.1Bz", "ns1.1bz", "nope.1bz", "1bz", "mail.1bz", "x.y.1bz", "docs.1bz"]
            let types: [RRType] = [.a, .aaaa, .txt, .soa, .ns, .mx]
            let results = try await InProcessDNSServer.offCooperativePool {
                try (0..<16).map { client -> (sent: [[UInt8]], received: [[UInt8]]) in
                    let socket = try BlockingUDPClient(port: port)
                    defer { socket.close() }
                    let requests = (0..<64).map { index in
                        EngineFixture.query(
                            names[(client + index) % names.count], types[index % types.count],
                            id: UInt16(client << 8 | index),
                            edns: index % 3 == 0 ? nil : EDNS(udpPayloadSize: 1232))
                    }
                    for request in requests { try socket.send(request) }
                    var received: [[UInt8]] = []
                    while received.count < requests.count, let datagram = socket.receive() { received.append(datagram) }
                    return (requests, received)
                }
            }
            for (client, result) in results.enumerated() {
                #expect(result.received.count == 64, "client \(client) got \(result.received.count) of 64 answers")
                let byID = Dictionary(result.received.map { (UInt16($0[0]) << 8 | UInt16($0[1]), $0) }) { a, _ in a }
                for request in result.sent {
                    let id = UInt16(request[0]) << 8 | UInt16(request[1])
                    #expect(byID[id] == engine.respond(to: request, transport: .udp), "client \(client) id \(id)")
                }
            }
        }
    }

    /// A datagram longer than the receive slot, garbage, and a truncated header: dropped
    /// or FORMERR, and the next query is answered as usual.
    @Test func hostileDatagramsDoNotStopTheSocket() async throws {
        let engine = QueryEngine(zone: EngineFixture.shippedZone)
        try await InProcessDNSServer.run(engine: engine) { port in
            let answers = try await InProcessDNSServer.offCooperativePool {
                let socket = try BlockingUDPClient(port: port, timeoutMilliseconds: 300)
                defer { socket.close() }
                var oversized = EngineFixture.query("www.1bz", .a)
                oversized += Array(repeating: 0, count: 5000)
                try socket.send(oversized)
                let afterOversized = socket.receive()
                try socket.send([0x12])
                let afterShort = socket.receive()
                var formErr = EngineFixture.query("www.1bz", .a, id: 0x0101)
                formErr[5] = 9  // QDCOUNT 9 with one question
                try socket.send(formErr)
                let afterLying = socket.receive()
                try socket.send(EngineFixture.query("www.1bz", .a, id: 0x0202))
                return (afterOversized, afterShort, afterLying, socket.receive())
            }
            #expect(answers.0 == nil, "a datagram longer than the slot is dropped")
            #expect(answers.1 == nil, "a datagram shorter than a header is dropped")
            let formErr = try Message(decoding: try #require(answers.2))
            #expect(formErr.rcode == .formErr)
            let normal = try Message(decoding: try #require(answers.3))
            #expect(normal.header.id == 0x0202 && normal.rcode == .noError && normal.answers.count == 1)
        }
    }

    /// After graceful shutdown the worker threads have stopped and the socket is closed:
    /// nothing answers any more, and the service returned promptly.
    @Test func gracefulShutdownStopsTheWorkers() async throws {
        let engine = QueryEngine(zone: EngineFixture.shippedZone)
        let ports = AsyncStream<Int>.makeStream(bufferingPolicy: .unbounded)
        let started = ContinuousClock.now
        try await InProcessDNSServer.run(engine: engine) { ports.continuation.yield($0) }
        #expect(ContinuousClock.now - started < .seconds(5))
        ports.continuation.finish()
        var iterator = ports.stream.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let answer = try await InProcessDNSServer.offCooperativePool {
            let socket = try BlockingUDPClient(port: port, timeoutMilliseconds: 300)
            defer { socket.close() }
            try socket.send(EngineFixture.query("www.1bz", .a))
            return socket.receive()
        }
        #expect(answer == nil)
    }
}

/// A plain connected UDP socket with a receive timeout (nil from `receive` on timeout).
private struct BlockingUDPClient {
    struct Failure: Error { let call: String }
    let fd: Int32

    init(port: Int, timeoutMilliseconds: Int = 3000) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(call: "socket") }
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer: Int32 = 1 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(call: "connect") }
    }

    func send(_ bytes: [UInt8]) throws {
        guard Glibc.send(fd, bytes, bytes.count, 0) == bytes.count else { throw Failure(call: "send") }
    }

    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65535)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count < 0 ? nil : Array(buffer[0..<count])
    }

    func close() { Glibc.close(fd) }
}
