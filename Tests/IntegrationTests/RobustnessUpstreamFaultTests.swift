import Foundation
import Testing
import TestSupport

/// Upstreams that fail or lie, injected by tools/faultproxy.py in front of the
/// devnet and the registry, against the real onebzd (docs/robustness.md). For every
/// fault: a cached name answers stale, an uncached one SERVFAIL (never NXDOMAIN from a
/// failure), no forged data is ever served, onebzd logs a line naming the fault class,
/// and it recovers without a restart once the fault is gone.
@Suite(.serialized) struct RobustnessUpstreamFaultTests {
    static let shashiV4: Set<String> = ["192.0.2.10", "192.0.2.11"]

    /// (fault, what onebzd's log line says about it).
    static let chainFaults: [(FaultProxy.Fault, String)] = [
        (.hang, "timeout"), (.reset, "transport error"), (.http500, "(HTTP 500)"),
        (.rpcError, "JSON-RPC error -32000"), (.malformed, "not a JSON-RPC response"),
        (.shortResult, "invalid response"), (.wrongID, "does not match request id"),
    ]

    @Test func chainFaultsServeStaleOrSERVFAILAndRecover() async throws {
        let stack = try await FaultStack(label: "fault-chain", chainTimeout: "500ms")
        let proxy = stack.rpc[0]
        #expect(try Set(stack.dig(["shashi.1bz", "A"]).rdata("A")) == Self.shashiV4)

        for (index, (fault, logText)) in Self.chainFaults.enumerated() {
            let mark = stack.logLength
            // Wrong lengths only on eth_call: a shortened eth_blockNumber is another test.
            try proxy.inject(fault, delay: 5, methods: fault == .shortResult ? ["eth_call"] : nil)
            try await Task.sleep(for: .milliseconds(1200))  // past the 1 s TTL: only stale data left
            try await expectDegraded(stack, missing: "gone\(index).1bz", fault: "\(fault)")
            try await stack.eventually {
                stack.log(since: mark).contains("upstream lookup failed")
                    && stack.log(since: mark).contains(logText)
            }
            try proxy.inject(.pass)
            try await expectRecovered(stack, missing: "gone\(index).1bz")
        }

        // Connection refused: the proxy is gone, then back on the same port.
        proxy.stop()
        try await Task.sleep(for: .milliseconds(1200))
        let mark = stack.logLength
        try await expectDegraded(stack, missing: "refused.1bz", fault: "refused")
        #expect(stack.log(since: mark).contains("transport error"))
        try await proxy.restart()
        try await expectRecovered(stack, missing: "refused.1bz")
        #expect(stack.onebzd.process.isRunning)
    }

    @Test func chainGoingBackwardsIsWaitedOutThenReorganised() async throws {
        let httpPort = FreePort.next()
        let stack = try await FaultStack(label: "fault-backwards", httpPort: httpPort)
        #expect(try Set(stack.dig(["shashi.1bz", "A"]).rdata("A")) == Self.shashiV4)
        let snapshot = try await stack.devnet.snapshot()
        let before = try await stack.devnet.blockNumber()
        try await stack.devnet.mine(5)
        try await stack.eventually { (try ChainStatus.head(httpPort: httpPort) ?? 0) >= before + 5 }
        let serial = try soaSerial(stack)

        // Back by 5 blocks, deeper than the (zero) confirmations: lookups pinned to the
        // followed block now ask for a block the endpoint does not have.
        try await stack.devnet.revert(to: snapshot)
        try await Task.sleep(for: .milliseconds(1200))
        let a = try stack.dig(["shashi.1bz", "A"])
        #expect(a.status == "NOERROR" && Set(a.rdata("A")) == Self.shashiV4, "\(a)")
        let missing = try stack.dig(["backwards.1bz", "A"])
        // The endpoint says "header not found": a failure, never NXDOMAIN.
        #expect(missing.status == "SERVFAIL", "\(missing)")
        #expect(try soaSerial(stack) >= serial, "the SOA serial never goes back")

        // The new chain grows past the old head: the parent hashes differ, a reorg.
        try await stack.devnet.mine(10)
        try await stack.eventually { stack.log().contains("chain reorganised") }
        try await expectRecovered(stack, missing: "backwards.1bz")
    }

    @Test func lyingOrBrokenPreferredEndpointFailsOverToTheHonestOne() async throws {
        let stack = try await FaultStack(label: "fault-liar", endpoints: 2)
        let (liar, honest) = (stack.rpc[0], stack.rpc[1])
        // Detectable lies and breakage on the preferred endpoint: answers stay right.
        let faults: [FaultProxy.Fault] = [.shortResult, .malformed, .wrongID, .http500, .reset, .hang]
        for (index, fault) in faults.enumerated() {
            try await preferFirstEndpoint(stack)
            let faultsBefore = liar.count("fault:\(fault.rawValue)")
            let honestBefore = honest.count("eth_call")
            try liar.inject(fault, delay: 5, methods: ["eth_call"])
            try await Task.sleep(for: .milliseconds(1200))
            let a = try stack.dig(["shashi.1bz", "A"])
            #expect(a.status == "NOERROR" && Set(a.rdata("A")) == Self.shashiV4, "\(fault): \(a)")
            let missing = try stack.dig(["liar\(index).1bz", "A"])
            #expect(missing.status == "NXDOMAIN", "\(fault): the honest endpoint answered: \(missing)")
            #expect(liar.count("fault:\(fault.rawValue)") > faultsBefore, "\(fault): the liar was asked")
            #expect(honest.count("eth_call") > honestBefore, "\(fault): failed over")
            try liar.inject(.pass)
        }
    }

    @Test func registryFaultsServeStaleAndForgedRecordsAreNeverServed() async throws {
        let stack = try await FaultStack(label: "fault-registry")
        let proxy = stack.registryProxy
        #expect(try Set(stack.dig(["shashi.1bz", "A"]).rdata("A")) == Self.shashiV4)

        let faults: [(FaultProxy.Fault, String)] = [
            (.hang, "registry unavailable"), (.http500, "(HTTP 500)"), (.reset, "registry unavailable"),
            (.malformed, "registry malformed response"),
        ]
        for (index, (fault, logText)) in faults.enumerated() {
            let mark = stack.logLength
            try proxy.inject(fault, delay: 5, paths: ["/v1/nodes"])
            try await Task.sleep(for: .milliseconds(1200))
            let a = try stack.dig(["shashi.1bz", "A"])
            #expect(a.status == "NOERROR" && Set(a.rdata("A")) == Self.shashiV4, "\(fault): stale \(a)")
            if index == 0 {
                // Never looked up: the chain knows it, the registry cannot be asked.
                let acme = try stack.dig(["acme.1bz", "A"])
                #expect(acme.status == "SERVFAIL", "\(fault): \(acme)")
            }
            // The chain alone says a name does not exist: no registry call needed.
            #expect(try stack.dig(["regfault\(index).1bz", "A"]).status == "NXDOMAIN")
            try await stack.eventually {
                stack.log(since: mark).contains("upstream=registry") && stack.log(since: mark).contains(logText)
            }
            try proxy.inject(.pass)
            try await stack.eventually { try Set(stack.dig(["acme.1bz", "A"]).rdata("A")) == ["198.51.100.20"] }
        }

        // Forged: addresses changed after signing. Never served; TXT keeps chain facts.
        let mark = stack.logLength
        try proxy.inject(.forge, paths: ["/v1/nodes"])
        try await Task.sleep(for: .milliseconds(1200))
        for _ in 0..<3 {
            let a = try stack.dig(["shashi.1bz", "A"])
            #expect(!a.rdata("A").contains("203.0.113.66"), "forged address served: \(a)")
            #expect(a.status == "NOERROR", "\(a)")
        }
        let txt = try stack.dig(["shashi.1bz", "TXT"]).txt
        #expect(txt["trust"] != "100" && txt["verified"] == "yes", "\(txt)")
        try await stack.eventually { stack.log(since: mark).contains("registry metadata rejected") }
        try proxy.inject(.pass)
        try await stack.eventually { try Set(stack.dig(["shashi.1bz", "A"]).rdata("A")) == Self.shashiV4 }

        // Down (connection refused), then back.
        proxy.stop()
        try await Task.sleep(for: .milliseconds(1200))
        #expect(try Set(stack.dig(["shashi.1bz", "A"]).rdata("A")) == Self.shashiV4)
        try await proxy.restart()
        try await stack.eventually { try Set(stack.dig(["acme.1bz", "A"]).rdata("A")) == ["198.51.100.20"] }
        #expect(stack.onebzd.process.isRunning)
    }

    // MARK: helpers

    /// A cached name answers stale (right data), an uncached one SERVFAIL.
    private func expectDegraded(_ stack: FaultStack, missing: String, fault: String) async throws {
        let a = try stack.dig(["shashi.1bz", "A"])
        #expect(a.status == "NOERROR", "\(fault): stale answer expected: \(a)")
        #expect(Set(a.rdata("A")) == Self.shashiV4, "\(fault): \(a)")
        let gone = try stack.dig([missing, "A"])
        #expect(gone.status == "SERVFAIL", "\(fault): never NXDOMAIN from a failure: \(gone)")
    }

    /// Without a restart: the missing name is NXDOMAIN again, cached names fresh.
    private func expectRecovered(_ stack: FaultStack, missing: String) async throws {
        try await stack.eventually { try stack.dig([missing, "A"]).status == "NXDOMAIN" }
        try await stack.eventually { try Set(stack.dig(["acme.1bz", "A"]).rdata("A")) == ["198.51.100.20"] }
        #expect(try Set(stack.dig(["shashi.1bz", "A"]).rdata("A")) == Self.shashiV4)
    }

    /// Makes rpc[0] the preferred endpoint again: a failure of rpc[1] (the follower
    /// polls every 200 ms) moves the preference to the next endpoint.
    private func preferFirstEndpoint(_ stack: FaultStack) async throws {
        let honest = stack.rpc[1]
        try honest.inject(.reset)
        try await Task.sleep(for: .milliseconds(700))  // a few follower polls
        try honest.inject(.pass)
    }

    private func soaSerial(_ stack: FaultStack) throws -> UInt64 {
        let soa = try stack.dig(["1bz", "SOA"]).answer.first { $0.contains(" SOA ") } ?? ""
        let fields = soa.split(separator: " ")
        guard fields.count > 6, let serial = UInt64(fields[6]) else { throw TestProcessError("no SOA: \(soa)") }
        return serial
    }
}
