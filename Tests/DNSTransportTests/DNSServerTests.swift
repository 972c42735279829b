import DNSEngine
import DNSTestSupport
import DNSTransport
import DNSWire
import Foundation
import Testing

/// DNSServer in-process on an ephemeral port with a dynamic source whose cache always
/// misses: the transports must await `resolve` and then answer, over UDP and TCP.
/// A hang becomes a named failure (in-process servers and threads), not a stalled run.
@Suite(.timeLimit(.minutes(3))) struct DNSServerTests {
    final class ResolvingSource: DynamicAnswerSource {
        func cachedAnswer(wire qname: UnsafeRawBufferPointer, type: RRType) -> DynamicAnswer? { nil }

        func resolve(name: Name, type: RRType) async -> DynamicAnswer {
            try? await Task.sleep(for: .milliseconds(20))  // as if asking the chain
            let record = ResourceRecord(name: name, type: .a, ttl: 60, rdata: [203, 0, 113, 7])
            return .records(name: name, [record])
        }
    }

    static func dig(port: Int, _ arguments: [String]) async throws -> String {
        try await InProcessDNSServer.offCooperativePool { try digBlocking(port: port, arguments) }
    }

    private static func digBlocking(port: Int, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // A generous timeout: in a full parallel run other tests can hold the cooperative
        // threads the server's resolve task needs for a few seconds (process waits).
        process.arguments = ["dig", "@127.0.0.1", "-p", "\(port)", "+time=20", "+tries=1"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }

    @Test func missPathResolvesThenAnswersOverUDPAndTCP() async throws {
        let engine = QueryEngine(zone: EngineFixture.shippedZone, dynamicSource: ResolvingSource())
        try await InProcessDNSServer.run(engine: engine, threads: 1) { port in
            for transport in ["+notcp", "+tcp"] {
                let output = try await Self.dig(port: port, [transport, "ShAsHi.1bz", "A"])
                #expect(output.contains("status: NOERROR"), "\(output)")
                #expect(output.contains("ShAsHi.1bz.\t\t60\tIN\tA\t203.0.113.7"), "\(output)")
            }
            // Static names never take the async path.
            #expect(try await Self.dig(port: port, ["+short", "ns1.1bz", "A"]).contains("192.0.2.53"))
        }
    }
}
