import DNSWire
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Packet replay: thousands of mutated, truncated and random packets over UDP and TCP
/// to a real onebzd, then the same well-formed queries as before must get the same
/// answers (and the server must still be running). Seeded: a failure prints its seed.
@Suite(.serialized) struct RobustnessReplayTests {
    /// Well-formed queries whose answers are compared before and after the replay.
    static let probes: [(String, RRType)] = [
        ("1bz", .soa), ("1bz", .ns), ("www.1bz", .a), ("www.1bz", .aaaa), ("nope.1bz", .a), ("example.com", .a),
        ("ns1.1bz", .a), ("1bz", .any),
    ]

    @Test func hostileUDPPacketsLeaveTheServerAnsweringCorrectly() async throws {
        let server = try await OnebzdServer(label: "replay-udp")
        let seed = UInt64.random(in: 0...UInt64.max)
        var mutator = PacketMutator(seed: seed)
        let before = try probeAnswers(port: server.port)

        let socket = try UDPSocket(port: server.port)
        var responses: [[UInt8]] = []
        let total = 3000
        for batch in stride(from: 0, to: total, by: 100) {
            for id in batch..<(batch + 100) { socket.send(mutator.hostilePacket(id: UInt16(id))) }
            responses += socket.drain(for: .milliseconds(20))
        }
        responses += socket.drain(for: .milliseconds(500))
        // Every answer is a well-formed DNS response.
        for response in responses {
            let message = try? Message(decoding: response)
            #expect(message?.header.isResponse == true, "seed \(seed): undecodable answer \(response)")
        }
        #expect(server.process.isRunning, "seed \(seed)")
        #expect(try probeAnswers(port: server.port) == before, "seed \(seed): answers changed after the replay")
        print("udp replay: \(total) packets, \(responses.count) answers, seed \(seed)")
    }

    @Test func hostileTCPFramesLeaveTheServerAnsweringCorrectly() async throws {
        let server = try await OnebzdServer(label: "replay-tcp")
        let seed = UInt64.random(in: 0...UInt64.max)
        var mutator = PacketMutator(seed: seed)
        let before = try probeAnswers(port: server.port)
        let client = RawDNSClient(port: server.port)
        var answered = 0
        for connectionIndex in 0..<25 {
            let connection = try client.tcp(timeout: 1)
            var bytes: [UInt8] = []
            for n in 0..<40 {
                let packet = mutator.hostilePacket(id: UInt16(connectionIndex * 40 + n))
                bytes += RawDNSClient.framed(Array(packet.prefix(65535)))
            }
            // Some connections also end with a lying length prefix.
            if connectionIndex % 5 == 0 { bytes += [0xFF, 0xFF, 1, 2, 3] }
            connection.send(bytes)
            connection.shutdownWrite()  // EOF after the frames: the server answers, then closes
            while let response = connection.readMessage() {
                answered += 1
                let message = try? Message(decoding: response)
                #expect(message?.header.isResponse == true, "seed \(seed): undecodable answer")
            }
        }
        #expect(server.process.isRunning, "seed \(seed)")
        #expect(try probeAnswers(port: server.port) == before, "seed \(seed): answers changed after the replay")
        let tcp = try server.dig(["+tcp", "www.1bz", "A"])
        #expect(tcp.status == "NOERROR" && tcp.answer.count == 1, "\(tcp)")
        print("tcp replay: 1000 frames, \(answered) answers, seed \(seed)")
    }

    /// Answers to the probes with the ID zeroed, over UDP.
    private func probeAnswers(port: Int) throws -> [[UInt8]] {
        let client = RawDNSClient(port: port)
        return try Self.probes.enumerated().map { index, probe in
            let answer = try #require(try client.udp(RawDNSClient.query(probe.0, probe.1, id: UInt16(index))))
            return [0, 0] + answer.dropFirst(2)
        }
    }
}

extension RawDNSClient.Connection {
    /// Half-closes the connection (FIN): no more queries, answers may still come.
    func shutdownWrite() { _ = shutdown(fd, Int32(SHUT_WR)) }
}

/// A connected UDP socket that sends without waiting and drains answers.
final class UDPSocket {
    let fd: Int32

    init(port: Int) throws {
        fd = try RawDNSClient(port: port).connectSocket(type: Int32(SOCK_DGRAM.rawValue), timeout: 1)
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
    }

    /// Every datagram that arrives until `quiet` passes without one.
    func drain(for quiet: Duration) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 65535)
        var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let millis = Int32(quiet.components.seconds * 1000 + quiet.components.attoseconds / 1_000_000_000_000_000)
        while poll(&pollFD, 1, millis) > 0 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 { out.append(Array(buffer[0..<n])) } else if n < 0 && errno != EAGAIN { break }
        }
        return out
    }
}
