import ChainReader
import NodeRegistry
import Testing

import OneBZResolver

/// The chain facts the events state: what `nodes(hash)` returns at the batch's block,
/// across batches (a verification or stake in a later batch than the registration).
@Suite struct EventChainFactsTests {
    static let a = NodeHash(unchecked: Array(repeating: 0xA1, count: 32))
    static let b = NodeHash(unchecked: Array(repeating: 0xB2, count: 32))
    static let wallet = EthereumAddress(unchecked: Array(repeating: 0x11, count: 20))

    @Test func eventsGiveTheNodeAsTheContractStoresIt() {
        var first = ChainBatch()
        first.add(.registered(nodeHash: Self.a, name: "a.1bz", wallet: Self.wallet, block: 5))
        first.add(.stakeAdded(nodeHash: Self.a, amount: UInt256(3)))
        first.add(.registered(nodeHash: Self.b, name: "B.1bz", wallet: Self.wallet, block: 7))
        var second = ChainBatch()
        second.add(.verified(nodeHash: Self.a))
        second.add(.stakeAdded(nodeHash: Self.a, amount: UInt256(4)))
        second.add(.stakeAdded(nodeHash: Self.b, amount: UInt256(1)))
        var facts = first.facts
        facts.merge(second.facts)
        #expect(facts.registrationBlocks == [5, 7])
        let times: [UInt64: UInt64] = [5: 1_000, 7: 1_004]
        #expect(
            facts.node(Self.a, timestamps: times)
                == Node(wallet: Self.wallet, dnsName: "a.1bz", verified: true, stakeAmount: UInt256(7), registeredAt: 1_000))
        #expect(
            facts.node(Self.b, timestamps: times)
                == Node(wallet: Self.wallet, dnsName: "B.1bz", verified: false, stakeAmount: UInt256(1), registeredAt: 1_004))
        #expect(facts.node(Self.b, timestamps: [5: 1_000]) == nil, "no timestamp, no facts")
        #expect(facts.node(NodeHash(unchecked: Array(repeating: 0, count: 32)), timestamps: times) == nil)
    }
}
