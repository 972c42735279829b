import ChainReader
import Foundation
import Testing

/// The Merkle-Patricia verifier and the registry's storage layout against proofs the
/// devnet (py-evm) made: ProofVectors.swift, written by tools/proof_vectors.py.
@Suite struct ProofVerificationTests {
    static let stateRoot = Bytes32(hex: ProofVectors.stateRoot)!
    static let registry = EthereumAddress(hex: ProofVectors.registry)!

    static func proof(_ json: String) throws -> AccountProof {
        try AccountProof(json: JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)))
    }

    static func slot(_ hex: String) -> UInt256 { UInt256(hexQuantity: hex)! }

    @Test(arguments: ProofVectors.samples.map(\.name)) func vyperSlotsMatchTheDevnet(_ name: String) {
        let sample = ProofVectors.samples.first { $0.name == name }!
        let layout = RegistryStorageLayout.vyper
        #expect(layout.dnsToNodeSlot(name: name) == Self.slot(sample.dnsSlot))
        #expect(layout.nodeSlots(Bytes32(hex: sample.nodeHash)!).all == sample.nodeSlots.map(Self.slot))
    }

    @Test(arguments: ProofVectors.samples.map(\.name)) func provesWhatTheGettersReturn(_ name: String) throws {
        let sample = ProofVectors.samples.first { $0.name == name }!
        let layout = RegistryStorageLayout.vyper
        let hash = Bytes32(hex: sample.nodeHash)!
        let nodeSlots = layout.nodeSlots(hash)
        let dnsSlot = layout.dnsToNodeSlot(name: name)
        let values = try Self.proof(sample.proofJSON).verify(
            stateRoot: Self.stateRoot, address: Self.registry, slots: [dnsSlot] + nodeSlots.all)
        #expect(Bytes32(unchecked: values[dnsSlot]!.bigEndianBytes) == hash)
        let node = try #require(try layout.node(from: values, slots: nodeSlots))
        #expect(node.wallet == EthereumAddress(hex: sample.wallet)!)
        #expect(node.dnsName == name)
        #expect(node.verified == sample.verified)
        #expect(node.stakeAmount.description == sample.stakeAmount)
        #expect(node.registeredAt == sample.registeredAt)
    }

    @Test func absentNameIsProvenZero() throws {
        let slot = RegistryStorageLayout.vyper.dnsToNodeSlot(name: ProofVectors.absentName)
        #expect(slot == Self.slot(ProofVectors.absentSlot))
        let values = try Self.proof(ProofVectors.absentProofJSON).verify(
            stateRoot: Self.stateRoot, address: Self.registry, slots: [slot])
        #expect(values[slot] == .zero)
    }

    @Test func anotherBlocksRootFails() throws {
        let sample = ProofVectors.samples[0]
        var root = Self.stateRoot.bytes
        root[0] ^= 1
        #expect(throws: ProofError.self) {
            try Self.proof(sample.proofJSON).verify(
                stateRoot: Bytes32(unchecked: root), address: Self.registry, slots: [Self.slot(sample.dnsSlot)])
        }
    }

    @Test func forgedNodeOrValueFails() throws {
        let sample = ProofVectors.samples[0]
        let honest = try Self.proof(sample.proofJSON)
        let slot = Self.slot(sample.dnsSlot)
        // A storage proof node with one bit flipped no longer hashes to its reference.
        var entries = honest.storageProof
        var nodes = entries[0].proof
        nodes[nodes.count - 1][nodes[nodes.count - 1].count - 1] ^= 1
        entries[0] = .init(key: entries[0].key, value: entries[0].value, proof: nodes)
        let forgedNode = AccountProof(
            address: honest.address, accountProof: honest.accountProof, nonce: honest.nonce, balance: honest.balance,
            codeHash: honest.codeHash, storageHash: honest.storageHash, storageProof: entries)
        #expect(throws: ProofError.self) {
            try forgedNode.verify(stateRoot: Self.stateRoot, address: Self.registry, slots: [slot])
        }
        // A claimed value the proof does not back.
        var lies = honest.storageProof
        lies[0] = .init(key: lies[0].key, value: UInt256(42), proof: lies[0].proof)
        let forgedValue = AccountProof(
            address: honest.address, accountProof: honest.accountProof, nonce: honest.nonce, balance: honest.balance,
            codeHash: honest.codeHash, storageHash: honest.storageHash, storageProof: lies)
        #expect(throws: ProofError.self) {
            try forgedValue.verify(stateRoot: Self.stateRoot, address: Self.registry, slots: [slot])
        }
        // Another slot's (valid) proof offered for ours.
        let other = ProofVectors.samples[1]
        let swapped = try Self.proof(other.proofJSON)
        var moved = swapped.storageProof[0]
        moved = .init(key: slot, value: moved.value, proof: moved.proof)
        let misplaced = AccountProof(
            address: swapped.address, accountProof: swapped.accountProof, nonce: swapped.nonce,
            balance: swapped.balance, codeHash: swapped.codeHash, storageHash: swapped.storageHash,
            storageProof: [moved])
        #expect(throws: ProofError.self) {
            try misplaced.verify(stateRoot: Self.stateRoot, address: Self.registry, slots: [slot])
        }
        // A storage root the account proof does not show.
        let wrongRoot = AccountProof(
            address: honest.address, accountProof: honest.accountProof, nonce: honest.nonce, balance: honest.balance,
            codeHash: honest.codeHash, storageHash: MerklePatriciaProof.emptyRoot, storageProof: honest.storageProof)
        #expect(throws: ProofError.self) {
            try wrongRoot.verify(stateRoot: Self.stateRoot, address: Self.registry, slots: [slot])
        }
    }

    @Test func missingSlotFails() throws {
        let sample = ProofVectors.samples[0]
        #expect(throws: ProofError.self) {
            try Self.proof(sample.proofJSON).verify(
                stateRoot: Self.stateRoot, address: Self.registry, slots: [UInt256(7)])
        }
    }
}

/// Solidity's layout for the seed contract (never compiled here): the slots are computed
/// in this test straight from Solidity's storage rules, and compared with
/// RegistryStorageLayout.solidity and with eth_utils' keccak (tools/proof_vectors.py).
@Suite struct SolidityLayoutTests {
    static func word(_ n: UInt64) -> [UInt8] { UInt256(n).bigEndianBytes }

    @Test(arguments: ProofVectors.samples.map(\.name)) func slotsFollowTheRules(_ name: String) {
        let sample = ProofVectors.samples.first { $0.name == name }!
        let hash = Bytes32(hex: sample.nodeHash)!
        // `mapping(string => bytes32) dnsToNode` is the second state variable: slot 1;
        // a string key is hashed as its bytes, unpadded, followed by the slot word.
        let dns = UInt256(Bytes32(unchecked: Keccak256.hash(Array(name.utf8) + Self.word(1))))
        #expect(RegistryStorageLayout.solidity.dnsToNodeSlot(name: name) == dns)
        #expect(dns == UInt256(hexQuantity: sample.solidityDNSSlot)!)
        // `mapping(bytes32 => Node) nodes` is slot 0: keccak256(key ‖ slot); members in
        // order, one slot each (address; string; bool after a string starts a new slot).
        let base = UInt256(Bytes32(unchecked: Keccak256.hash(hash.bytes + Self.word(0))))
        #expect(base == UInt256(hexQuantity: sample.solidityNodeBase)!)
        let slots = RegistryStorageLayout.solidity.nodeSlots(hash)
        #expect(slots.wallet == base)
        #expect(slots.nameHead == base.adding(1))
        #expect(slots.verified == base.adding(2))
        #expect(slots.stakeAmount == base.adding(3))
        #expect(slots.registeredAt == base.adding(4))
        // A long string's bytes start at keccak256(head slot).
        #expect(slots.nameData[0] == UInt256(Bytes32(unchecked: Keccak256.hash(base.adding(1).bigEndianBytes))))
        #expect(slots.nameData[7] == slots.nameData[0].adding(7))
    }

    @Test func shortAndLongStrings() throws {
        let layout = RegistryStorageLayout.solidity
        let hash = Bytes32(unchecked: [UInt8](repeating: 0xab, count: 32))
        let slots = layout.nodeSlots(hash)
        var values: [UInt256: UInt256] = [:]
        for slot in slots.all { values[slot] = .zero }
        values[slots.wallet] = UInt256(0x1234)
        values[slots.verified] = UInt256(1)
        values[slots.stakeAmount] = UInt256(5)
        values[slots.registeredAt] = UInt256(99)
        // Short: bytes left-aligned, 2·length in the lowest byte.
        var short = Array("shashi.1bz".utf8) + [UInt8](repeating: 0, count: 22)
        short[31] = 20
        values[slots.nameHead] = UInt256(bigEndianBytes: short)!
        var node = try #require(try layout.node(from: values, slots: slots))
        #expect(node.dnsName == "shashi.1bz")
        #expect(node.verified && node.stakeAmount == UInt256(5) && node.registeredAt == 99)
        // Long (40 bytes): 2·length+1 in the head, the bytes from keccak256(head).
        let long = String(repeating: "a", count: 36) + ".1bz"
        values[slots.nameHead] = UInt256(81)
        values[slots.nameData[0]] = UInt256(bigEndianBytes: Array(long.utf8.prefix(32)))!
        values[slots.nameData[1]] = UInt256(bigEndianBytes: Array(long.utf8.dropFirst(32)) + [UInt8](repeating: 0, count: 24))!
        node = try #require(try layout.node(from: values, slots: slots))
        #expect(node.dnsName == long)
        #expect(try layout.nameWords(head: UInt256(81)) == 2)
        #expect(try layout.nameWords(head: UInt256(bigEndianBytes: short)!) == 0)
        #expect(try RegistryStorageLayout.vyper.nameWords(head: UInt256(33)) == 2)
        #expect(try RegistryStorageLayout.vyper.nameWords(head: UInt256(10)) == 1)
        #expect(throws: ProofError.self) { try RegistryStorageLayout.vyper.nameWords(head: UInt256(257)) }
        // Zero wallet: nothing registered.
        values[slots.wallet] = .zero
        #expect(try layout.node(from: values, slots: slots) == nil)
    }
}
