import Foundation
import TestSupport
import Testing

/// The same zone, the same queries, onebzd and NSD side by side: rcode, AA/TC and every
/// section must agree. NSD runs with `minimal-responses: yes`, our (and Knot's) policy:
/// no NS in authority on answers. Left out where the servers legitimately differ: ANY
/// (RFC 8482 lets each choose), CH, and MX (we add the exchange's address, as Knot does;
/// minimal NSD does not).
@Suite(.serialized) struct DifferentialIntegrationTests {
    /// NSD on a free loopback port, serving zones/1bz.zone, stopped by PID.
    final class NSDServer {
        let port = FreePort.next()
        let process: ManagedProcess

        init() async throws {
            let dir = try Repo.scratchDirectory("nsd")
            // The one NSD configuration the benchmarks use too (scripts/lib/secondaries.sh).
            let zone = Repo.root.appendingPathComponent("zones/1bz.zone").path
            try Secondary.shell("write_nsd_primary \(dir.path) 127.0.0.1 \(port) \(zone)")
            let configPath = dir.appendingPathComponent("nsd.conf").path
            process = try ManagedProcess(
                name: "nsd", executable: URL(fileURLWithPath: "/usr/sbin/nsd"), arguments: ["-d", "-c", configPath],
                logDirectory: dir)
            let port = self.port
            try await process.waitUntil {
                let result = try Command.run(
                    "dig", ["@127.0.0.1", "-p", "\(port)", "+time=1", "+tries=1", "1bz", "SOA"])
                return result.stdout.contains("status: NOERROR")
            }
        }

        deinit { process.stop() }
    }

    static let queries: [[String]] = [
        ["ns1.1bz", "A"], ["ns1.1bz", "AAAA"], ["NS2.1Bz", "A"], ["1bz", "SOA"], ["1bz", "NS"],
        ["1bz", "TXT"], ["www.1bz", "A"], ["www.1bz", "MX"], ["docs.1bz", "A"], ["docs.1bz", "CNAME"],
        ["registry.1bz", "TXT"], ["nope.1bz", "A"], ["a.b.c.1bz", "AAAA"], ["info.1bz", "A"],
        ["_dns.info.1bz", "TXT"], ["status._dns.info.1bz", "TXT"], ["example.1bz", "NS"], ["example.1bz", "DS"],
        ["example.1bz", "A"], ["www.example.1bz", "A"], ["ns1.example.1bz", "A"], ["example.com", "A"],
        ["com", "NS"],
    ]

    /// What must agree: rcode, AA, TC and the sections as sets of normalised lines.
    static func summary(_ result: DigResult) -> String {
        let flags = ["aa", "tc"].filter { result.flags.contains($0) }.joined(separator: ",")
        return """
            \(result.status ?? "-") [\(flags)]
            answer: \(result.answer.sorted())
            authority: \(result.authority.sorted())
            additional: \(result.additional.filter { !$0.hasPrefix(";") }.sorted())
            """
    }

    @Test(arguments: ["+notcp", "+tcp"])
    func agreesWithNSD(transport: String) async throws {
        let nsd = try await NSDServer()
        let onebzd = try await OnebzdServer(label: "differential")
        for query in Self.queries {
            let arguments = [transport, "+nocookie"] + query
            let theirs = Self.summary(
                DigResult(
                    output: try Command.run(
                        "dig", ["@127.0.0.1", "-p", "\(nsd.port)", "+norec", "+time=2", "+tries=1"] + arguments
                    ).stdout))
            let ours = Self.summary(try onebzd.dig(arguments))
            #expect(ours == theirs, "\(query.joined(separator: " ")) \(transport)")
        }
    }
}
