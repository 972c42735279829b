import DNSWire
import Foundation
import TestSupport
import Testing

/// TCP framing and pipelining, idle timeout, and clients that misbehave.
@Suite(.serialized) struct TransportRobustnessIntegrationTests {
    @Test func tcpPipelinedQueriesAllAnswered() async throws {
        let server = try await OnebzdServer(label: "pipeline")
        let connection = try RawDNSClient(port: server.port).tcp()
        let names = ["ns1.1bz", "ns2.1bz", "www.1bz", "nope.1bz", "example.com"]
        // All queries in one write: the server must answer each of them.
        connection.send(
            names.enumerated().flatMap { RawDNSClient.framed(RawDNSClient.query($1, .a, id: UInt16(100 + $0))) })
        var ids = Set<UInt16>()
        for _ in names {
            let message = try Message(decoding: try #require(connection.readMessage()))
            ids.insert(message.header.id)
        }
        #expect(ids == Set(100..<105))
        // The connection stays usable afterwards, even with a query split across writes.
        let split = RawDNSClient.framed(RawDNSClient.query("www.1bz", .aaaa, id: 7))
        connection.send(Array(split.prefix(5)))
        try await Task.sleep(for: .milliseconds(100))
        connection.send(Array(split.dropFirst(5)))
        let last = try Message(decoding: try #require(connection.readMessage()))
        #expect(last.header.id == 7 && last.answers.count == 1)
    }

    @Test func malformedInputDoesNotBreakTheServer() async throws {
        let server = try await OnebzdServer(label: "malformed")
        let client = RawDNSClient(port: server.port)
        // Garbage datagrams: short, random, compression loops, lying counts.
        let garbage: [[UInt8]] =
            [
                [], [1], Array(repeating: 0xFF, count: 12), Array(repeating: 0xC0, count: 40),
                [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1],
                [0, 1, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            ] + (0..<200).map { _ in (0..<Int.random(in: 12..<300)).map { _ in UInt8.random(in: 0...255) } }
        for bytes in garbage { try client.udpSend(bytes) }
        // FORMERR, not silence, for a readable but malformed query.
        let formErr = try client.udp([0, 9, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0])
        #expect(try Message(decoding: try #require(formErr)).rcode == .formErr)
        // TCP junk: a frame of garbage, then a connection that claims 65535 bytes and stalls.
        let junk = try client.tcp()
        junk.send(RawDNSClient.framed((0..<40).map { _ in UInt8.random(in: 0...255) }))
        let stalled = try client.tcp()
        stalled.send([0xFF, 0xFF, 1, 2, 3])
        // Everyone else is still served, promptly, on both transports.
        let udp = try server.dig(["www.1bz", "A"])
        #expect(udp.status == "NOERROR" && udp.answer.count == 1, "\(udp)")
        let tcp = try server.dig(["+tcp", "www.1bz", "A"])
        #expect(tcp.status == "NOERROR" && tcp.answer.count == 1, "\(tcp)")
        #expect(server.process.isRunning)
    }

    @Test func idleTCPConnectionsAreClosed() async throws {
        let server = try await OnebzdServer(label: "idle", extraArguments: ["--tcp-idle-timeout", "1"])
        let connection = try RawDNSClient(port: server.port).tcp(timeout: 5)
        let start = ContinuousClock.now
        #expect(connection.isClosedByPeer())
        #expect(ContinuousClock.now - start < .seconds(4))
    }

    @Test func connectionCapClosesExtraConnections() async throws {
        let server = try await OnebzdServer(label: "cap", extraArguments: ["--tcp-max-connections", "2"])
        let client = RawDNSClient(port: server.port)
        // Let the server notice that the readiness probe's connection has gone.
        try await Task.sleep(for: .milliseconds(500))
        let first = try client.tcp()
        let second = try client.tcp()
        try await Task.sleep(for: .milliseconds(200))
        let third = try client.tcp()
        #expect(third.isClosedByPeer())
        // The admitted ones still work.
        first.send(RawDNSClient.framed(RawDNSClient.query("www.1bz", .a, id: 1)))
        #expect(first.readMessage() != nil)
        _ = second
    }

    /// Issue 21, finding 9: one host cannot hold every TCP slot. Before, 1,024
    /// connections from one address took them all; now a client (an IPv4 address, an
    /// IPv6 /64) holds at most `tcp_max_connections_per_client`, and others still get in.
    @Test func oneClientCannotHoldEveryTCPSlot() async throws {
        let server = try await OnebzdServer(
            label: "cap-client", extraArguments: ["--tcp-max-connections", "100", "--tcp-max-connections-per-client", "3"])
        let client = RawDNSClient(port: server.port)
        try await Task.sleep(for: .milliseconds(500))  // the readiness probe's connection goes
        let held = try (0..<3).map { _ in try client.tcp(from: "127.0.0.7") }
        try await Task.sleep(for: .milliseconds(200))
        let fourth = try client.tcp(from: "127.0.0.7")
        #expect(fourth.isClosedByPeer(), "a 4th connection from one client is closed")
        let other = try client.tcp(from: "127.0.0.8")
        other.send(RawDNSClient.framed(RawDNSClient.query("www.1bz", .a, id: 2)))
        #expect(other.readMessage() != nil, "another client still gets in")
        held[0].send(RawDNSClient.framed(RawDNSClient.query("www.1bz", .a, id: 3)))
        #expect(held[0].readMessage() != nil, "the admitted ones work")
    }
}
