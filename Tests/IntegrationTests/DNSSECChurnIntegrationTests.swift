import Foundation
import Testing
import TestSupport

/// Issue 23, "DNSSEC churn bounded": with DNSSEC on and blocks mined every 0.5 s, blocks
/// that change no name leave the SOA serial, the signatures and the NOTIFYs alone; a
/// registration moves the serial once, a Knot secondary fed by NOTIFY + IXFR (TSIG)
/// reaches the same serial and serves the new name, validated by unbound with only our
/// DS; the NOTIFYs onebzd counted equal the new serials.
@Suite(.serialized, .timeLimit(.minutes(2))) struct DNSSECChurnIntegrationTests {
    /// A counter summed over its label sets whose labels contain every `filter` (Prometheus text).
    static func counter(_ text: String, _ name: String, _ filters: [String] = []) -> Int {
        text.split(separator: "\n")
            .filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
            .filter { line in filters.allSatisfy { line.contains($0) } }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0) { $0 + Int($1) }
    }

    static func soaSerial(port: Int) throws -> UInt32? {
        let result = try Command.run("dig", ["@127.0.0.1", "-p", "\(port)", "+short", "+time=2", "+tries=1", "1bz", "SOA"])
        return result.stdout.split(separator: " ").dropFirst(2).first.flatMap { UInt32($0) }
    }

    @Test func blocksWithoutChangesKeepTheSerialARegistrationMovesItOnce() async throws {
        let started = ContinuousClock.now
        let (keys, ds) = try DNSSECIntegrationTests.makeKeys("churn")
        let directory = try Repo.scratchDirectory("churn-files")
        let knotPort = FreePort.next()
        let key = SignedTransferIntegrationTests.key
        let stack = try await DynamicStack(
            label: "churn",
            extraConfig: try SignedTransferIntegrationTests.transferConfig(directory: directory) + """

                [[transfer.notify]]
                address = "127.0.0.1:\(knotPort)"
                key = "\(key)"

                [dnssec]
                enabled = true
                key_dir = "\(keys)"

                [zone]
                serial_min_interval = "1s"

                """,
            mineInterval: 0.5)
        let knot = try await Secondary.knot(primaryPort: stack.onebzd.port, directory: directory, port: knotPort)
        // Live, transferred, and Knot serves the zone at onebzd's serial.
        var serial: UInt32 = 0
        _ = try await stack.eventually(timeout: .seconds(20)) {
            guard let ours = try Self.soaSerial(port: stack.onebzd.port) else { return false }
            serial = ours
            return try Self.soaSerial(port: knot.port) == ours
                && (try? Command.run("kdig", ["@127.0.0.1", "-p", "\(knot.port)", "+short", "shashi.1bz", "A"]))?.stdout
                    .contains("192.0.2.10") == true
        }
        // The NOTIFY of that serial acknowledged (Knot may have started after the first
        // attempt: its retry is part of the start, not of the churn measured below).
        _ = try await stack.eventually(timeout: .seconds(10)) {
            stack.onebzd.process.stderr().split(separator: "\n").contains {
                $0.contains("serial=\(serial) ") && $0.hasSuffix("notify acknowledged")
            }
        }
        let metrics = try stack.get("/metrics").body
        let notifies = Self.counter(metrics, "onebz_dns_notify_total", ["outcome=\"sent\""])
        let staticSignatures = Self.counter(metrics, "onebz_dnssec_signatures_total", ["place=\"static\""])
        let transferSignatures = Self.counter(metrics, "onebz_dnssec_signatures_total", ["place=\"transfer\""])
        #expect(staticSignatures > 0 && transferSignatures > 0, "the counter exists: \(metrics.suffix(1500))")

        // Blocks keep coming (and onebzd processes them): the serial does not move.
        let block = try await stack.devnet.blockNumber()
        _ = try await stack.eventually(timeout: .seconds(10)) { (try ChainStatus.head(httpPort: stack.httpPort) ?? 0) >= block + 4 }
        #expect(try Self.soaSerial(port: stack.onebzd.port) == serial, "blocks without changes keep the serial")
        let quiet = try stack.get("/metrics").body
        #expect(Self.counter(quiet, "onebz_dns_notify_total", ["outcome=\"sent\""]) == notifies, "no NOTIFY without a change")
        #expect(Self.counter(quiet, "onebz_dnssec_signatures_total", ["place=\"static\""]) == staticSignatures)
        #expect(Self.counter(quiet, "onebz_dnssec_signatures_total", ["place=\"transfer\""]) == transferSignatures)

        // A registration moves it once; Knot follows (NOTIFY, IXFR) and serves the name.
        _ = try await stack.registerNewNode("newcomer.1bz", account: 5)
        var moved: UInt32 = serial
        _ = try await stack.eventually(timeout: .seconds(15)) {
            moved = try Self.soaSerial(port: stack.onebzd.port) ?? serial
            return moved != serial
        }
        _ = try await stack.eventually(timeout: .seconds(15)) {
            try Self.soaSerial(port: knot.port) == moved
                && (try? Command.run("kdig", ["@127.0.0.1", "-p", "\(knot.port)", "newcomer.1bz", "TXT"]))?.stdout
                    .contains("status: NOERROR") == true
        }
        // More empty blocks: still the registration's serial.
        let after = try await stack.devnet.blockNumber()
        _ = try await stack.eventually(timeout: .seconds(10)) { (try ChainStatus.head(httpPort: stack.httpPort) ?? 0) >= after + 3 }
        #expect(try Self.soaSerial(port: stack.onebzd.port) == moved)
        let final = try stack.get("/metrics").body
        #expect(
            Self.counter(final, "onebz_dns_notify_total", ["outcome=\"sent\""]) - notifies == 1,
            "one NOTIFY for one new serial: \(final.split(separator: "\n").filter { $0.contains("notify") })")
        let resolver = try await ValidatingResolver(authorityPort: knot.port, ds: ds, label: "churn-unbound")
        let newcomer = try resolver.dig(["newcomer.1bz", "TXT"])
        #expect(newcomer.status == "NOERROR" && newcomer.flags.contains("ad"), "via Knot: \(newcomer)")
        #expect(ContinuousClock.now - started < .seconds(40), "took \(ContinuousClock.now - started)")
    }
}
