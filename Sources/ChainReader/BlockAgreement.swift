import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers

/// Asks every configured endpoint for a block's header and accepts the block only when
/// `quorum` of them report the same (hash, stateRoot), each header's hash recomputed from
/// its fields (`BlockHeader+RLP`: a header whose fields do not hash to its hash is a lie
/// and does not vote, `onebz_chain_header_hash_mismatch_total`); `quorum` is capped at the number
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
    private let inFlight = NIOLockedValueBox<[UInt64: Task<Outcome, any Error>]>([:])
    private static let cacheLimit = 256
    private let disagreements = Counter(label: "onebz_chain_block_disagreements_total")
    private let failures = Counter(label: "onebz_chain_block_agreement_failures_total")
    private let forgedHeaders = Counter(label: "onebz_chain_header_hash_mismatch_total")

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

    /// A call to send in the same HTTP request as one endpoint's header request (a
    /// JSON-RPC batch), so that a miss at a block not agreed yet still costs one round
    /// trip: the proof rides along with the header.
    public struct Piggyback: Sendable {
        public let method: String
        public let params: [JSONValue]
        /// The endpoint to send it to (one of `endpoints`; else the first).
        public let endpoint: URL

        public init(method: String, params: [JSONValue], endpoint: URL) {
            self.method = method
            self.params = params
            self.endpoint = endpoint
        }
    }

    /// An agreed block and, for the caller that started the agreement, its piggyback's
    /// answer (nil when there was none or the batch could not be sent).
    public struct Outcome: Sendable {
        public let block: AgreedBlock
        public let piggyback: Result<JSONValue, any Error>?
    }

    /// Where block `number` stands for a caller.
    public enum Progress: Sendable {
        /// Agreed before.
        case known(AgreedBlock)
        /// This call started the agreement; the piggyback's answer comes with it.
        case started(Task<Outcome, any Error>)
        /// Another caller's agreement is under way (without this caller's piggyback).
        case joined(Task<Outcome, any Error>)
    }

    /// The highest block at least `quorum` endpoints have (their `latest`, or their
    /// `finalized` block with `finalized`): every endpoint is asked at once, one attempt
    /// each; the quorum-th highest answer wins. So the follower never moves to a block
    /// the quorum cannot agree on yet because some endpoints lag, and one endpoint
    /// ahead of (or behind) the others is neither followed nor taken for a reorg.
    /// Throws QuorumHeadError when fewer than `quorum` endpoints answer.
    public func quorumHead(finalized: Bool = false) async throws -> UInt64 {
        let answers = await withTaskGroup(of: (Int, Result<UInt64, any Error>).self) { group in
            for (index, client) in endpoints.enumerated() {
                group.addTask {
                    do {
                        if finalized {
                            guard let header = try await client.block(.finalized) else {
                                throw JSONRPCError(
                                    .rpc, method: "eth_getBlockByNumber",
                                    endpoint: JSONRPCClient.redacted(client.configuration.endpoints[0]),
                                    message: "no finalized block")
                            }
                            return (index, .success(header.number))
                        }
                        return (index, .success(try await client.blockNumber()))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var answers: [(Int, Result<UInt64, any Error>)] = []
            for await answer in group { answers.append(answer) }
            return answers.sorted { $0.0 < $1.0 }
        }
        let heights = answers.compactMap { try? $0.1.get() }.sorted(by: >)
        guard heights.count >= quorum else {
            failures.increment()
            throw QuorumHeadError(
                quorum: quorum,
                answers: answers.map { index, answer in
                    switch answer {
                    case .success(let height): (names[index], "head \(height)")
                    case .failure(let error): (names[index], "\(error)")
                    }
                })
        }
        return heights[quorum - 1]
    }

    /// The agreed header of block `number` (cached), or BlockAgreementError. Misses that
    /// arrive together for a new block share one round of header requests.
    public func agreed(_ number: UInt64) async throws -> AgreedBlock {
        switch begin(number) {
        case .known(let block): return block
        case .started(let task), .joined(let task): return try await task.value.block
        }
    }

    /// The agreed block if known; else starts agreeing on it (sending `piggyback` along
    /// with one endpoint's header request) or joins the agreement under way.
    public func begin(_ number: UInt64, piggyback: Piggyback? = nil) -> Progress {
        if let known = cache.withLockedValue({ $0[number] }) { return .known(known) }
        return inFlight.withLockedValue { running in
            if let task = running[number] { return .joined(task) }
            let task = Task {
                defer { _ = self.inFlight.withLockedValue { $0.removeValue(forKey: number) } }
                let outcome = try await self.agree(number, piggyback: piggyback)
                self.cache.withLockedValue { cache in
                    if cache.count >= Self.cacheLimit, let oldest = cache.keys.min() { cache[oldest] = nil }
                    cache[number] = outcome.block
                }
                return outcome
            }
            running[number] = task
            return .started(task)
        }
    }

    /// Forgets agreed blocks from `number` on (after a reorg).
    public func forget(from number: UInt64) {
        cache.withLockedValue { cache in cache = cache.filter { $0.key < number } }
    }

    private struct Vote: Hashable {
        let hash: Bytes32
        let stateRoot: Bytes32
    }

    private typealias Answer = (index: Int, header: Result<BlockHeader?, any Error>, piggyback: Result<JSONValue, any Error>?)

    private func agree(_ number: UInt64, piggyback: Piggyback?) async throws -> Outcome {
        let quorum = quorum
        let carrier = piggyback.map { p in endpoints.firstIndex { $0.configuration.endpoints[0] == p.endpoint } ?? 0 }
        return try await withThrowingTaskGroup(of: Answer.self) { group in
            for (index, client) in endpoints.enumerated() {
                let extra = index == carrier ? piggyback : nil
                group.addTask { await Self.ask(client, index: index, number: number, piggyback: extra) }
            }
            var votes: [Vote: [Int]] = [:]
            var answers: [Int: String] = [:]
            var carried: Result<JSONValue, any Error>?
            for try await answer in group {
                let index = answer.index
                if let piggyback = answer.piggyback { carried = piggyback }
                switch answer.header {
                case .success(let header?):
                    guard header.number == number, let root = header.stateRoot else {
                        answers[index] = "sent a header without stateRoot or for block \(header.number)"
                        continue
                    }
                    guard header.isSelfConsistent else {
                        // The agreed hash may be true while this root is not: a lie (or a
                        // fork whose header fields we do not know), never a vote.
                        answers[index] =
                            "sent a header whose fields hash to \(header.recomputedHash?.hex ?? "nothing (fields missing)"), not to its hash \(header.hash.hex)"
                        forgedHeaders.increment()
                        logger.warning(
                            "an endpoint sent a block header that does not hash to its hash; its vote is ignored",
                            metadata: ["block": "\(number)", "endpoint": "\(names[index])", "detail": "\(answers[index]!)"])
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
                let block = AgreedBlock(
                    number: number, hash: vote.hash, stateRoot: vote.stateRoot,
                    endpoints: voters.sorted().map { names[$0] })
                return Outcome(block: block, piggyback: carried)
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

    /// One endpoint's header (with the piggyback in the same request when there is one).
    /// An endpoint that refuses or garbles the batch is asked again for the header alone.
    private static func ask(_ client: JSONRPCClient, index: Int, number: UInt64, piggyback: Piggyback?) async
        -> Answer
    {
        if let piggyback {
            do {
                let calls: [(method: String, params: [JSONValue])] = [
                    ("eth_getBlockByNumber", JSONRPCClient.blockParams(.number(number))),
                    (piggyback.method, piggyback.params),
                ]
                let (header, extra) = try await client.batch(calls) { results in
                    (try client.blockHeader(from: results[0].get()), results[1])
                }
                return (index, .success(header), extra.mapError { $0 as any Error })
            } catch let error as JSONRPCError where error.kind == .timeout || error.kind == .transport {
                return (index, .failure(error), .failure(error))
            } catch {
                // Fall through: the header alone.
            }
        }
        do { return (index, .success(try await client.block(.number(number))), nil) } catch {
            return (index, .failure(error), nil)
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
