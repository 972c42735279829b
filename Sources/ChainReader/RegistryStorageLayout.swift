/// Where BizNodeRegistry keeps what `resolveDNS` and `nodes` read, as data: the slots of
/// its two mappings, the member offsets of the `Node` struct, and the language's rules for
/// mapping elements and strings. Two instances: `solidity` (the seed's contract,
/// contracts/BizNodeRegistry.sol) and `vyper` (the devnet's port, BizNodeRegistry.vy).
public struct RegistryStorageLayout: Sendable, Hashable {
    public enum Language: String, Sendable, Hashable {
        /// Mapping element: keccak256(key ‖ slot), a string key as its raw bytes, a value
        /// key padded to 32 bytes. Strings: one slot holding the bytes and 2·length when
        /// shorter than 32 bytes, else 2·length+1 with the bytes from keccak256(slot).
        case solidity
        /// Vyper 0.4: HashMap element keccak256(slot ‖ key), a String key hashed first
        /// (keccak256 of its bytes). Strings: the length, then the bytes from slot+1.
        case vyper
    }

    public let language: Language
    /// The slot of `nodes` (bytes32 => Node) and of `dnsToNode` (string => bytes32).
    public let nodesSlot: UInt64
    public let dnsToNodeSlot: UInt64
    /// Offsets of the Node members from the element's slot.
    public let wallet: UInt64
    public let dnsName: UInt64
    public let verified: UInt64
    public let stakeAmount: UInt64
    public let registeredAt: UInt64
    /// Longest name the contract can hold that we read (words of string data).
    public static let maxNameWords: UInt64 = 8  // 253 bytes

    /// contracts/BizNodeRegistry.sol: state variables in declaration order from slot 0;
    /// the struct's members each take a slot (address, then a string, then a bool that
    /// cannot pack with the string, then two uint256).
    public static let solidity = RegistryStorageLayout(
        language: .solidity, nodesSlot: 0, dnsToNodeSlot: 1, wallet: 0, dnsName: 1, verified: 2, stakeAmount: 3,
        registeredAt: 4)

    /// contracts/BizNodeRegistry.vy as Vyper 0.4.3 lays it out (its "layout" output):
    /// `_nodes` at 1, `dnsToNode` at 2; String[253] takes 1 + 8 slots.
    public static let vyper = RegistryStorageLayout(
        language: .vyper, nodesSlot: 1, dnsToNodeSlot: 2, wallet: 0, dnsName: 1, verified: 10, stakeAmount: 11,
        registeredAt: 12)

    public init(
        language: Language, nodesSlot: UInt64, dnsToNodeSlot: UInt64, wallet: UInt64, dnsName: UInt64,
        verified: UInt64, stakeAmount: UInt64, registeredAt: UInt64
    ) {
        self.language = language
        self.nodesSlot = nodesSlot
        self.dnsToNodeSlot = dnsToNodeSlot
        self.wallet = wallet
        self.dnsName = dnsName
        self.verified = verified
        self.stakeAmount = stakeAmount
        self.registeredAt = registeredAt
    }

    /// The slot of `dnsToNode[name]` (`resolveDNS` reads it).
    public func dnsToNodeSlot(name: String) -> UInt256 {
        let base = UInt256(dnsToNodeSlot).bigEndianBytes
        switch language {
        case .solidity: return UInt256(Bytes32(unchecked: Keccak256.hash(Array(name.utf8) + base)))
        case .vyper: return UInt256(Bytes32(unchecked: Keccak256.hash(base + Keccak256.hash(Array(name.utf8)))))
        }
    }

    /// The first slot of `nodes[nodeHash]`.
    public func nodeSlot(_ nodeHash: Bytes32) -> UInt256 {
        let base = UInt256(nodesSlot).bigEndianBytes
        switch language {
        case .solidity: return UInt256(Bytes32(unchecked: Keccak256.hash(nodeHash.bytes + base)))
        case .vyper: return UInt256(Bytes32(unchecked: Keccak256.hash(base + nodeHash.bytes)))
        }
    }

    /// Every slot `nodes(nodeHash)` reads: the four value members, the name's head slot
    /// and the data words a name of up to 253 bytes may use (asked for at once, so the
    /// node costs one proof request whatever its name's length).
    public func nodeSlots(_ nodeHash: Bytes32) -> NodeSlots {
        let base = nodeSlot(nodeHash)
        let nameHead = base.adding(dnsName)
        let dataStart: UInt256
        switch language {
        case .solidity: dataStart = UInt256(Bytes32(unchecked: Keccak256.hash(nameHead.bigEndianBytes)))
        case .vyper: dataStart = nameHead.adding(1)
        }
        return NodeSlots(
            wallet: base.adding(wallet), nameHead: nameHead,
            nameData: (0..<Self.maxNameWords).map { dataStart.adding($0) }, verified: base.adding(verified),
            stakeAmount: base.adding(stakeAmount), registeredAt: base.adding(registeredAt))
    }

    /// The node from proven slot values; nil when nothing is registered (zero wallet).
    public func node(from values: [UInt256: UInt256], slots: NodeSlots) throws(ProofError) -> Node? {
        func value(_ slot: UInt256) throws(ProofError) -> UInt256 {
            guard let v = values[slot] else { throw ProofError("slot \(slot.hex) was not proven") }
            return v
        }
        let walletWord = try value(slots.wallet).bigEndianBytes
        let wallet = EthereumAddress(unchecked: Array(walletWord[12...]))
        guard !wallet.isZero else { return nil }
        let name = try string(head: value(slots.nameHead)) { i throws(ProofError) in try value(slots.nameData[i]) }
        let stake = try value(slots.stakeAmount)
        return Node(
            wallet: wallet, dnsName: name, verified: !(try value(slots.verified)).isZero, stakeAmount: stake,
            registeredAt: try value(slots.registeredAt).uint64 ?? .max)
    }

    /// How many data words the name whose head slot holds `head` uses (0 for a short
    /// Solidity string, which lives in its head slot).
    public func nameWords(head: UInt256) throws(ProofError) -> Int {
        let length: UInt64
        switch language {
        case .solidity:
            if head.bigEndianBytes[31] & 1 == 0 { return 0 }
            guard let l = head.uint64 else { throw ProofError("name too long") }
            length = l / 2
        case .vyper:
            guard let l = head.uint64 else { throw ProofError("name too long") }
            length = l
        }
        guard length <= 32 * Self.maxNameWords else { throw ProofError("name of \(length) bytes is too long") }
        return Int((length + 31) / 32)
    }

    private func string(head: UInt256, word: (Int) throws(ProofError) -> UInt256) throws(ProofError) -> String {
        var bytes: [UInt8] = []
        let length: Int
        switch language {
        case .solidity:
            let last = head.bigEndianBytes[31]
            if last & 1 == 0 {  // short: the bytes in place, 2·length in the lowest byte
                length = Int(last / 2)
                guard length < 32 else { throw ProofError("short string of \(length) bytes") }
                return String(decoding: head.bigEndianBytes[0..<length], as: UTF8.self)
            }
            guard let l = head.uint64, l / 2 <= 32 * Self.maxNameWords else { throw ProofError("name too long") }
            length = Int(l / 2)
        case .vyper:
            guard let l = head.uint64, l <= 32 * Self.maxNameWords else { throw ProofError("name too long") }
            length = Int(l)
        }
        var i = 0
        while bytes.count < length {
            bytes += try word(i).bigEndianBytes
            i += 1
        }
        return String(decoding: bytes[0..<length], as: UTF8.self)
    }
}

/// The storage slots of one `nodes[nodeHash]` element.
public struct NodeSlots: Sendable, Hashable {
    public let wallet: UInt256
    public let nameHead: UInt256
    public let nameData: [UInt256]
    public let verified: UInt256
    public let stakeAmount: UInt256
    public let registeredAt: UInt256

    /// Every slot a name of up to 253 bytes may need.
    public var all: [UInt256] { needed(nameWords: nameData.count) }

    /// What a node with a name of `nameWords` data words reads. `initial` (one word, names
    /// of up to 32 bytes: one request for nearly every node) is asked for first.
    public func needed(nameWords: Int) -> [UInt256] {
        [wallet, nameHead] + nameData.prefix(max(1, nameWords)) + [verified, stakeAmount, registeredAt]
    }

    public var initial: [UInt256] { needed(nameWords: 1) }
}
