import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers

/// Asks every configured endpoint for a block's header and accepts the block only when
/// `quorum` of them report the same (hash, stateRoot); `quorum` is capped at the number
/// of endpoints; two different blocks that both reach a (sub-majority) quorum are a
/// disagreement, never a choice. Agreed blocks are remembered, so
/// a block is agreed once, not per cache miss. An endpoint that reports another hash or
/// root is named in a log line and counted (`onebz_chain_block_disagreements_total`);
/// one that does not have the block yet (withholding or lagging) simply does not vote.
public final class BlockAgreement: Sendable {
    /// One client per endpoint (each with that one URL), in the configured order.
    public let endpoints: [JSONRPCClient]
    public let quorum: Int
    private let names: [String]
    private let logger: Logger
    private let cache = NIOLockedValueBox<[UInt64: AgreedBlock]>([:])
    private let inFlight = NIOLockedValueBox<[UInt64: Task<AgreedBlock, any Error>]>([:])
    private static let cacheLimit = 256
    private let disagreements = Counter(label: "onebz_chain_block_disagreements_total")
    private let failures = Counter(label: "onebz_chain_block_agreement_failures_total")

    /// - Parameter quorum: endpoints that must agree; nil = a majority (n/2 + 1).
    public init(endpoints: [JSONRPCClient], quorum: Int? = nil, logger: Logger = Logger(label: "onebz.chain.quorum")) {
        precondition(!endpoints.isEmpty, "BlockAgreement needs at least one endpoint")
        self.endpoints = endpoints
        self.quorum = min(max(1, quorum ?? endpoints.count / 2 + 1), endpoints.count)
        self.names = endpoints.map { JSONRPCClient.redacted($0.configuration.endpoints[0]) }
        self.logger = logger
    }

    /// One client per URL with `template`'s timeouts and a single attempt (an endpoint
    /// that fails does not vote; the others decide).
    public static func clients(for urls: [URL], template: JSONRPCClient.Configuration) -> [JSONRPCClient] {
        urls.map { url in
            var configuration = template
            configuration.endpoints = [url]
            configuration.maxAttempts = 1
            return JSONRPCClient(configuration: configuration)
        }
    }

    /// The agreed header of block `number` (cached), or BlockAgreementError. Misses that
    /// arrive together for a new block share one round of header requests.
    public func agreed(_ number: UInt64) async throws -> AgreedBlock {
        if let known = cache.withLockedValue({ $0[number] }) { return known }
        let task = inFlight.withLockedValue { running in
            if let task = running[number] { return task }
            let task = Task { try await self.agree(number) }
            running[number] = task
            return task
        }
        defer { _ = inFlight.withLockedValue { $0.removeValue(forKey: number) } }
        let block = try await task.value
        cache.withLockedValue { cache in
            if cache.count >= Self.cacheLimit, let oldest = cache.keys.min() { cache[oldest] = nil }
            cache[number] = block
        }
        return block
    }

    /// Forgets agreed blocks from `number` on (after a reorg).
    public func forget(from number: UInt64) {
        cache.withLockedValue { cache in cache = cache.filter { $0.key < number } }
    }

    private struct Vote: Hashable {
        let hash: Bytes32
        let stateRoot: Bytes32
    }

    private func agree(_ number: UInt64) async throws -> AgreedBlock {
        let quorum = quorum
        return try await withThrowingTaskGroup(of: (Int, Result<BlockHeader?, any Error>).self) { group in
            for (index, client) in endpoints.enumerated() {
                group.addTask {
                    do { return (index, .success(try await client.block(.number(number)))) } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var votes: [Vote: [Int]] = [:]
            var answers: [Int: String] = [:]
            for try await (index, result) in group {
                switch result {
                case .success(let header?):
                    guard header.number == number, let root = header.stateRoot else {
                        answers[index] = "sent a header without stateRoot or for block \(header.number)"
                        continue
                    }
                    let vote = Vote(hash: header.hash, stateRoot: root)
                    votes[vote, default: []].append(index)
                    answers[index] = "\(header.hash.hex)/\(root.hex)"
                case .success(nil):
                    answers[index] = "has no such block"
                case .failure(let error):
                    answers[index] = "failed: \(error)"
                }
            }
            // Every endpoint answers (or times out) before deciding, so that each one that
            // disagrees is named; this happens once per block, not per miss.
            let winners = votes.filter { $0.value.count >= quorum }
            if winners.count == 1, let (vote, voters) = winners.first {
                report(number, agreed: vote, votes: votes, answers: answers)
                return AgreedBlock(
                    number: number, hash: vote.hash, stateRoot: vote.stateRoot,
                    endpoints: voters.sorted().map { names[$0] })
            }
            failures.increment()
            let error = BlockAgreementError(
                number: number, quorum: quorum,
                answers: endpoints.indices.map { (names[$0], answers[$0] ?? "no answer") })
            if votes.count > 1 { disagreements.increment() }
            logger.warning("no block agreement", metadata: ["block": "\(number)", "detail": "\(error)"])
            throw error
        }
    }

    private func report(_ number: UInt64, agreed: Vote, votes: [Vote: [Int]], answers: [Int: String]) {
        let dissent = votes.filter { $0.key != agreed }.flatMap(\.value)
        guard !dissent.isEmpty else { return }
        disagreements.increment()
        logger.warning(
            "endpoints disagree with the quorum's block",
            metadata: [
                "block": "\(number)", "agreed": "\(agreed.hash.hex)",
                "dissenting": "\(dissent.map { "\(names[$0]) \(answers[$0] ?? "")" }.joined(separator: "; "))",
            ])
    }
}
