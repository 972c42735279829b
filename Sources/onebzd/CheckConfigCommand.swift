import ArgumentParser
import ChainReader
import Foundation
import Logging

/// `onebzd check-config`: reads the configuration as the server would (every bad value
/// named by its key), then asks each configured RPC endpoint once what the server will
/// need from it, and prints what it found. Exit 0 when the server can run on it.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check the configuration and test each chain endpoint once.",
        discussion: """
            Takes the server's configuration (--config and the same flags). For each endpoint in
            chain.rpc_urls: eth_chainId (against chain.network / chain.chain_id), the head, a
            batch of 10 calls (how many it takes at once), eth_getProof on the contract (required
            with verify = "proof") and eth_getLogs over chain.max_log_range blocks (a provider's
            range cap shows here, not at the first sync). Exit status 1 when the configuration
            is invalid, or an endpoint is unreachable, names another chain, or lacks what the
            configuration needs.
            """)

    @ParentCommand var server: OnebzdCommand

    func run() async throws {
        let settings: ServerConfiguration
        do { settings = try server.loadConfiguration() } catch {
            print("configuration: \(error)")
            throw ExitCode(1)
        }
        print("configuration: ok")
        guard let chain = settings.chain else {
            print("chain: none configured (the static zone only)")
            return
        }
        let expected = chain.expectedChainID.map { "\($0)" } ?? "any"
        print(
            "chain: \(chain.network.map { "network \($0.name), " } ?? "")chain id \(expected), verify \(chain.verify.rawValue), "
                + "follow \(chain.useFinalizedTag ? "finalized" : "latest - \(chain.confirmations)"), "
                + "max_log_range \(chain.maxLogRange), \(chain.rpcURLs.count) endpoint(s)")
        var problems = 0
        for url in chain.rpcURLs {
            let report = await EndpointCheck.run(url, chain: chain)
            print("endpoint \(JSONRPCClient.redacted(url))")
            for line in report.lines { print("  \(line)") }
            problems += report.problems
        }
        guard problems == 0 else {
            print("\(problems) problem(s): onebzd would not run as configured on these endpoints")
            throw ExitCode(1)
        }
        print("every endpoint has what the configuration needs")
    }
}

/// One endpoint asked once for each thing the server needs of it.
enum EndpointCheck {
    struct Report {
        var lines: [String] = []
        var problems = 0

        mutating func ok(_ what: String, _ text: String) { lines.append("\(pad(what)) \(text)") }
        mutating func problem(_ what: String, _ text: String) {
            lines.append("\(pad(what)) PROBLEM: \(text)")
            problems += 1
        }
        mutating func note(_ what: String, _ text: String) { lines.append("\(pad(what)) \(text)") }
        /// A failed check: a rate limit is a finding (the server rests such an endpoint
        /// and asks the others), anything else a problem.
        mutating func failed(_ what: String, _ error: any Error, needed: String = "") {
            if let error = error as? JSONRPCError, error.isRateLimited {
                note(what, "rate limited while checking (\(error.message)): keep chain.requests_per_second below its limit")
            } else {
                problem(what, "\(error)\(needed)")
            }
        }
        private func pad(_ what: String) -> String { what.padding(toLength: 13, withPad: " ", startingAt: 0) }
    }

    static func run(_ url: URL, chain: ServerConfiguration.Chain) async -> Report {
        var logger = Logger(label: "onebzd.check-config")
        logger.logLevel = .critical  // what it finds is printed below, not logged
        let client = ChainIDCheck.probe(url, chain: chain, logger: logger)
        var report = Report()

        do {
            let id = try await client.chainID()
            if let expected = chain.expectedChainID, id != expected {
                report.problem("chain id", "\(id), the configuration expects \(expected)")
            } else {
                report.ok("chain id", "\(id)")
            }
        } catch {
            report.failed("chain id", error)
            return report  // unreachable or not an Ethereum endpoint: nothing else to learn
        }

        let head: UInt64
        do {
            head = try await client.blockNumber()
            var line = "\(head)"
            if chain.useFinalizedTag {
                if let finalized = try await client.block(.finalized) {
                    line += " (finalized \(finalized.number), \(head &- finalized.number) behind)"
                } else {
                    report.problem("head", "\(head), but no \"finalized\" block (follow = \"finalized\" needs it)")
                }
            }
            report.ok("head", line)
        } catch {
            report.failed("head", error)
            return report
        }

        do {
            let calls = Array(repeating: (method: "eth_blockNumber", params: [JSONValue]()), count: 4)
            let answered = try await client.batch(calls) { $0.filter { if case .success = $0 { true } else { false } }.count }
            let limit = client.batchLimit(endpoint: 0)
            report.ok(
                "batch", limit <= 1 ? "refuses batches: calls go one by one (\(answered)/4 answered)"
                    : "\(answered)/4 answered in one batch (up to \(limit) calls a batch)")
        } catch {
            report.failed("batch", error)
        }

        do {
            _ = try await client.proof(address: chain.contract, slots: [UInt256(0)], at: .number(head))
            report.ok("eth_getProof", "ok")
        } catch {
            if chain.verify == .proof {
                report.failed("eth_getProof", error, needed: " (verify = \"proof\" needs it)")
            } else {
                report.note("eth_getProof", "not available (\(error)); verify = \"proof\" could not use this endpoint")
            }
        }

        let from = head >= chain.maxLogRange ? head - chain.maxLogRange + 1 : 0
        do {
            let logs = try await client.logs(address: chain.contract, from: from, to: head)
            report.ok("eth_getLogs", "\(head - from + 1) blocks accepted (\(logs.count) logs of the contract)")
        } catch let error as JSONRPCError where error.isRangeTooLarge {
            // The follower halves its ranges on this, so it runs, but every range costs a refusal.
            report.note(
                "eth_getLogs", "\(head - from + 1) blocks refused (\(error.message)): lower chain.max_log_range")
        } catch {
            report.failed("eth_getLogs", error)
        }
        return report
    }
}
