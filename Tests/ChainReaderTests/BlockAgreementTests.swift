import ChainReader
import Foundation
import Testing

/// BlockAgreement against FAKE endpoints (FaultInjectingRPCServer) that report chosen
/// headers: the quorum's block wins, a dissenter or a withholder does not, two blocks
/// each with a sub-majority quorum are a disagreement, a header whose fields do not hash
/// to its hash never votes, and a piggybacked call rides in the header's request.
@Suite struct BlockAgreementTests {
    /// Block 7 as a self-consistent header: `block` picks the block (its extraData),
    /// `root` its stateRoot.
    static func headerJSON(_ block: String, _ root: String) throws -> String {
        try BlockHeaderHashTests.consistentHeader(
            number: 7,
            changes: [
                "extraData": .string("0x0\(block)"), "stateRoot": .string("0x" + String(repeating: root, count: 64)),
            ])
    }

    static func header(_ block: String, _ root: String) throws -> FaultInjectingRPCServer.Reply {
        .result(try headerJSON(block, root))
    }

    /// Block `block`'s header with another stateRoot and the hash left as it was: what
    /// an endpoint that pairs a true hash with a false root sends.
    static func forgedRoot(_ block: String) throws -> FaultInjectingRPCServer.Reply {
        var object = try BlockHeaderHashTests.object(try headerJSON(block, "1"))
        object["stateRoot"] = .string("0x" + String(repeating: "4", count: 64))
        return .result(try BlockHeaderHashTests.text(object))
    }

    static func hash(_ block: String, _ root: String) throws -> String {
        try BlockHeaderHashTests.object(try headerJSON(block, root))["hash"]!.stringValue!
    }

    static func agreement(_ replies: [FaultInjectingRPCServer.Reply], quorum: Int?) async throws -> (
        BlockAgreement, [FaultInjectingRPCServer]
    ) {
        var servers: [FaultInjectingRPCServer] = []
        for reply in replies { servers.append(try await FaultInjectingRPCServer.start([reply])) }
        var template = JSONRPCClient.Configuration(endpoints: [servers[0].url])
        template.timeout = .seconds(1)
        return (BlockAgreement(endpoints: BlockAgreement.clients(for: servers.map(\.url), template: template), quorum: quorum), servers)
    }

    @Test func quorumWinsOverADissenterAndAWithholder() async throws {
        let (agreement, servers) = try await Self.agreement(
            [try Self.header("a", "1"), try Self.header("b", "2"), try Self.header("a", "1"), .result("null")], quorum: 2)
        let block = try await agreement.agreed(7)
        #expect(block.hash.hex == (try Self.hash("a", "1")))
        #expect(block.stateRoot.hex == "0x" + String(repeating: "1", count: 64))
        #expect(block.endpoints.count == 2)
        for server in servers { await server.close() }
    }

    @Test func noQuorumOrTwoWinnersIsAnError() async throws {
        // Majority of 3 is 2: three different answers agree on nothing.
        let (three, a) = try await Self.agreement(
            [try Self.header("a", "1"), try Self.header("b", "1"), .result("null")], quorum: nil)
        await #expect(throws: BlockAgreementError.self) { try await three.agreed(7) }
        // A quorum of 1 with two different blocks: a disagreement, not a choice.
        let (two, b) = try await Self.agreement([try Self.header("a", "1"), try Self.header("a", "2")], quorum: 1)
        await #expect(throws: BlockAgreementError.self) { try await two.agreed(7) }
        for server in a + b { await server.close() }
    }

    /// The true hash with a forged root does not vote: with a quorum of 1 the honest
    /// endpoint decides (before headers were re-hashed, this was two winners); with a
    /// quorum of 2 and one forger among two endpoints nothing is agreed.
    @Test func aForgedStateRootNeverVotes() async throws {
        let (one, a) = try await Self.agreement([try Self.forgedRoot("a"), try Self.header("a", "1")], quorum: 1)
        let block = try await one.agreed(7)
        #expect(block.stateRoot.hex == "0x" + String(repeating: "1", count: 64))
        #expect(block.endpoints == [JSONRPCClient.redactedForTests(a[1].url)])
        let (two, b) = try await Self.agreement([try Self.forgedRoot("a"), try Self.header("a", "1")], quorum: 2)
        let error = await #expect(throws: BlockAgreementError.self) { try await two.agreed(7) }
        #expect(error?.description.contains("not to its hash") == true, "\(String(describing: error))")
        // A header without the fields to re-hash it cannot vote either.
        let bare = FaultInjectingRPCServer.Reply.result(
            #"{"number":"0x7","hash":"0x\#(String(repeating: "a", count: 64))","parentHash":"0x\#(String(repeating: "0", count: 64))","timestamp":"0x1","stateRoot":"0x\#(String(repeating: "1", count: 64))"}"#)
        let (three, c) = try await Self.agreement([bare], quorum: 1)
        await #expect(throws: BlockAgreementError.self) { try await three.agreed(7) }
        for server in a + b + c { await server.close() }
    }

    /// A call piggybacked on block agreement rides in the same HTTP request as that
    /// endpoint's header request (one request per endpoint), and only the caller that
    /// started the agreement gets its answer.
    @Test func piggybackRidesInTheHeaderRequest() async throws {
        let header = try Self.headerJSON("a", "1")
        let carrier = FaultInjectingRPCServer.Reply.batch { calls in
            // Answers in reverse order: matched by id.
            "[" + calls.reversed().map { call in
                call.method == "eth_getBlockByNumber"
                    ? #"{"jsonrpc":"2.0","id":\#(call.id),"result":\#(header)}"#
                    : #"{"jsonrpc":"2.0","id":\#(call.id),"result":"0x2a"}"#
            }.joined(separator: ",") + "]"
        }
        let (agreement, servers) = try await Self.agreement([try Self.header("a", "1"), carrier], quorum: 2)
        let piggyback = BlockAgreement.Piggyback(method: "eth_chainId", params: [], endpoint: servers[1].url)
        guard case .started(let task) = agreement.begin(7, piggyback: piggyback) else {
            Issue.record("a new block is not started")
            return
        }
        let outcome = try await task.value
        #expect(outcome.block.endpoints.count == 2)
        #expect(try outcome.piggyback?.get() == .string("0x2a"))
        #expect(servers.map(\.requestCount) == [1, 1])
        guard case .known = agreement.begin(7, piggyback: piggyback) else {
            Issue.record("an agreed block is not remembered")
            return
        }
        #expect(servers.map(\.requestCount) == [1, 1])
        for server in servers { await server.close() }
    }

    /// An endpoint that refuses batches still votes: the client sends the header request
    /// and the piggyback as single calls (and single calls from then on).
    @Test func endpointWithoutBatchesStillVotes() async throws {
        let refusing = FaultInjectingRPCServer.Reply.raw(
            status: 200, headers: [:], body: #"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch requests are not supported"}}"#)
        let server = try await FaultInjectingRPCServer.start([refusing, try Self.header("a", "1")])
        var template = JSONRPCClient.Configuration(endpoints: [server.url])
        template.timeout = .seconds(1)
        let agreement = BlockAgreement(endpoints: BlockAgreement.clients(for: [server.url], template: template))
        let piggyback = BlockAgreement.Piggyback(method: "eth_chainId", params: [], endpoint: server.url)
        guard case .started(let task) = agreement.begin(7, piggyback: piggyback) else {
            Issue.record("a new block is not started")
            return
        }
        let outcome = try await task.value
        #expect(outcome.block.hash.hex == (try Self.hash("a", "1")))
        #expect(outcome.piggyback != nil, "the piggyback went as a single call")
        #expect(server.requestCount == 3, "refused batch, then header and piggyback alone")
        guard case .started(let next) = agreement.begin(8, piggyback: piggyback) else {
            Issue.record("a new block is not started")
            return
        }
        _ = try? await next.value
        #expect(server.requestCount == 5, "no batch tried again: two single calls")
        await server.close()
    }
}

extension BlockAgreementTests {
    /// The follower's check (proof mode): a one-block range (first == last) whose hash is
    /// the agreed one passes; another hash, for the range or a log's block, does not.
    @Test func followerRangesAreCheckedAgainstTheAgreedBlock() async throws {
        let (agreement, servers) = try await Self.agreement([try Self.header("a", "1")], quorum: 1)
        let agreed = try #require(Bytes32(hex: try Self.hash("a", "1")))
        let header = BlockHeader(number: 7, hash: agreed, parentHash: .zero, timestamp: 1)
        try await EventFollower.checkAgainstQuorum(agreement, first: header, last: header, logs: [])
        let other = BlockHeader(number: 7, hash: Bytes32(unchecked: [UInt8](repeating: 0x22, count: 32)), parentHash: .zero, timestamp: 1)
        await #expect(throws: FollowerQuorumError.self) {
            try await EventFollower.checkAgainstQuorum(agreement, first: other, last: other, logs: [])
        }
        let log = RegistryLog(event: .verified(nodeHash: agreed), blockNumber: 7, blockHash: other.hash, logIndex: 0, transactionHash: nil)
        await #expect(throws: FollowerQuorumError.self) {
            try await EventFollower.checkAgainstQuorum(agreement, first: header, last: header, logs: [log])
        }
        for server in servers { await server.close() }
    }
}

extension JSONRPCClient {
    /// scheme://host:port, as AgreedBlock.endpoints names endpoints.
    static func redactedForTests(_ url: URL) -> String { "http://\(url.host!):\(url.port!)" }
}
