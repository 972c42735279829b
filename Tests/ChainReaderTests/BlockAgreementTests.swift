import ChainReader
import Foundation
import Testing

/// BlockAgreement against FAKE endpoints (FaultInjectingRPCServer) that report chosen
/// headers: the quorum's block wins, a dissenter or a withholder does not, two blocks
/// each with a sub-majority quorum are a disagreement.
@Suite struct BlockAgreementTests {
    static func header(_ hash: String, _ root: String) -> FaultInjectingRPCServer.Reply {
        .result(
            #"{"number":"0x7","hash":"0x\#(String(repeating: hash, count: 64))","parentHash":"0x\#(String(repeating: "0", count: 64))","timestamp":"0x1","stateRoot":"0x\#(String(repeating: root, count: 64))"}"#
        )
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
            [Self.header("a", "1"), Self.header("b", "2"), Self.header("a", "1"), .result("null")], quorum: 2)
        let block = try await agreement.agreed(7)
        #expect(block.hash.hex == "0x" + String(repeating: "a", count: 64))
        #expect(block.stateRoot.hex == "0x" + String(repeating: "1", count: 64))
        #expect(block.endpoints.count == 2)
        for server in servers { await server.close() }
    }

    @Test func noQuorumOrTwoWinnersIsAnError() async throws {
        // Majority of 3 is 2: three different answers agree on nothing.
        let (three, a) = try await Self.agreement([Self.header("a", "1"), Self.header("b", "1"), .result("null")], quorum: nil)
        await #expect(throws: BlockAgreementError.self) { try await three.agreed(7) }
        // A quorum of 1 with two different blocks: a disagreement, not a choice.
        let (two, b) = try await Self.agreement([Self.header("a", "1"), Self.header("a", "2")], quorum: 1)
        await #expect(throws: BlockAgreementError.self) { try await two.agreed(7) }
        for server in a + b { await server.close() }
    }
}
