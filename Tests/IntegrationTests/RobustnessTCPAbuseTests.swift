import DNSWire
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// TCP clients that abuse the server: slow, half-closed, lying about lengths, and
/// thousands of idle ones. Each is bounded by the idle timeout, the per-message
/// deadline or the connection cap, while other clients keep being served.
@Suite(.serialized) struct RobustnessTCPAbuseTests {
    @Test func slowClientSendingOneBytePerSecondIsCutOff() async throws {
        let server = try await OnebzdServer(label: "tcp-slow", extraArguments: ["--tcp-idle-timeout", "2"])
        let slow = try RawDNSClient(port: server.port).tcp(timeout: 1)
        let query = RawDNSClient.framed(RawDNSClient.query("www.1bz", .a, id: 1))
        let clock = ContinuousClock()
        let start = clock.now
        var closedAfter: Duration?
        // One byte a second never lets the 2 s idle timer fire; the message deadline must.
        for byte in query {
            slow.send([byte])
            if slow.isClosedWithin(milliseconds: 1000) {
                closedAfter = clock.now - start
                break
            }
            // Meanwhile everyone else is served.
            #expect(try server.dig(["+tcp", "www.1bz", "A"]).status == "NOERROR")
        }
        let after = try #require(closedAfter, "a client trickling one byte per second kept its connection")
        #expect(after < .seconds(6), "closed after \(after)")
    }

    @Test func oversizedAndLyingLengthPrefixesAreBounded() async throws {
        let server = try await OnebzdServer(label: "tcp-lengths", extraArguments: ["--tcp-idle-timeout", "1"])
        let client = RawDNSClient(port: server.port)

        // A full 65535-byte frame of garbage, then a valid query on the same connection.
        let big = try client.tcp()
        big.send([0xFF, 0xFF] + (0..<65535).map { _ in UInt8.random(in: 0...255) })
        big.send(RawDNSClient.framed(RawDNSClient.query("www.1bz", .a, id: 42)))
        var sawAnswer = false
        while let answer = big.readMessage() {
            if let m = try? Message(decoding: answer), m.header.id == 42, m.answers.count == 1 { sawAnswer = true }
        }
        #expect(sawAnswer, "a query after an oversized garbage frame is answered")

        // A prefix claiming 65535 bytes followed by a few: closed within the deadline.
        let liar = try client.tcp(timeout: 5)
        let clock = ContinuousClock()
        let start = clock.now
        liar.send([0xFF, 0xFF, 0, 1, 0, 0])
        #expect(liar.isClosedByPeer())
        #expect(clock.now - start < .seconds(4))

        // A zero-length frame and a frame shorter than a header.
        let empty = try client.tcp()
        empty.send([0, 0] + [0, 3, 1, 2, 3] + RawDNSClient.framed(RawDNSClient.query("www.1bz", .a, id: 7)))
        var answered = false
        while let answer = empty.readMessage() {
            if let m = try? Message(decoding: answer), m.header.id == 7 { answered = true }
        }
        #expect(answered || server.process.isRunning)
        #expect(try server.dig(["+tcp", "www.1bz", "A"]).status == "NOERROR")
        #expect(try server.dig(["www.1bz", "A"]).status == "NOERROR")
    }

    @Test func halfClosedAndResetConnectionsAreHandled() async throws {
        let server = try await OnebzdServer(label: "tcp-halfclose")
        let client = RawDNSClient(port: server.port)
        // The client sends its query and half-closes (FIN): it still gets its answer.
        let half = try client.tcp()
        half.send(RawDNSClient.framed(RawDNSClient.query("www.1bz", .a, id: 9)))
        half.shutdownWrite()
        let answer = try Message(decoding: try #require(half.readMessage(), "no answer after a half-close"))
        #expect(answer.header.id == 9 && answer.answers.count == 1)

        // Clients that vanish with a RST mid-message, many times.
        for _ in 0..<200 {
            let reset = try client.tcp()
            reset.send([0, 40, 1, 2, 3])
            reset.abort()
        }
        #expect(try server.dig(["+tcp", "www.1bz", "A"]).status == "NOERROR")
        #expect(server.process.isRunning)
    }

    @Test func thousandsOfIdleConnectionsAreBoundedAndOthersServed() async throws {
        let cap = 100
        let server = try await OnebzdServer(
            label: "tcp-idle-flood", extraArguments: ["--tcp-max-connections", "\(cap)", "--tcp-idle-timeout", "2"])
        try await Task.sleep(for: .milliseconds(300))  // the readiness probe's connection is gone
        let client = RawDNSClient(port: server.port)
        let clock = ContinuousClock()
        let start = clock.now
        var idle: [RawDNSClient.Connection] = []
        while idle.count < 2000, clock.now - start < .seconds(8) {
            if let connection = try? client.tcp(timeout: 1) { idle.append(connection) }
        }
        #expect(idle.count >= 1000, "opened \(idle.count) connections")
        // UDP is served while TCP is saturated.
        #expect(try server.dig(["www.1bz", "A"]).status == "NOERROR")
        try await Task.sleep(for: .milliseconds(300))
        let open = idle.filter { !$0.isClosedWithin(milliseconds: 0) }.count
        #expect(open <= cap, "\(open) idle connections held open with a cap of \(cap)")
        // The idle timeout frees the slots: a new TCP client is served, without a restart.
        try await Task.sleep(for: .seconds(3))
        #expect(idle.filter { !$0.isClosedWithin(milliseconds: 0) }.isEmpty, "idle connections closed")
        let tcp = try server.dig(["+tcp", "www.1bz", "A"])
        #expect(tcp.status == "NOERROR" && tcp.answer.count == 1, "\(tcp)")
        print("idle flood: \(idle.count) connections opened, \(open) held (cap \(cap))")
    }
}

extension RawDNSClient.Connection {
    /// Whether the peer closed the connection (EOF or reset) within `milliseconds`;
    /// answers still unread are skipped over.
    func isClosedWithin(milliseconds: Int32) -> Bool {
        var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var buffer = [UInt8](repeating: 0, count: 4096)
        var remaining = milliseconds
        let clock = ContinuousClock()
        let start = clock.now
        while true {
            guard poll(&pollFD, 1, remaining) > 0 else { return false }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { return true }
            let elapsed = clock.now - start
            remaining = max(0, milliseconds - Int32(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000))
            if remaining == 0 && n < 0 { return false }
        }
    }

    /// Makes the close (at deinit) send a RST (SO_LINGER 0), as a client that vanishes.
    func abort() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }
}
