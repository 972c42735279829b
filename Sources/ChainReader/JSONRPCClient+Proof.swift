/// eth_getProof (EIP-1186), parsed and verified.
extension JSONRPCClient {
    /// eth_getProof for `slots` of `address` at `block`, parsed but not verified.
    public func proof(address: EthereumAddress, slots: [UInt256], at block: BlockTag) async throws -> AccountProof {
        try await call("eth_getProof", Self.proofParams(address, slots, block)) { try AccountProof(json: $0) }
    }

    /// eth_getProof at block number `block`, checked against that block's `stateRoot`
    /// before it is accepted: a proof that does not verify counts as an invalid answer of
    /// the endpoint that sent it, so the call moves on to the next endpoint (and
    /// `rejected` hears about it, for metrics and logs). Returns the proof and the proven
    /// value of every slot.
    public func provenStorage(
        address: EthereumAddress, slots: [UInt256], at block: UInt64, stateRoot: Bytes32,
        rejected: @Sendable (ProofError) -> Void = { _ in }
    ) async throws -> (proof: AccountProof, values: [UInt256: UInt256]) {
        try await call("eth_getProof", Self.proofParams(address, slots, .number(block))) { result in
            do throws(ProofError) {
                let proof = try AccountProof(json: result)
                return (proof, try proof.verify(stateRoot: stateRoot, address: address, slots: slots))
            } catch {
                rejected(error)
                throw error
            }
        }
    }

    static func proofParams(_ address: EthereumAddress, _ slots: [UInt256], _ block: BlockTag) -> [JSONValue] {
        [.string(address.hex), .array(slots.map { .string($0.hex) }), block.jsonValue]
    }
}

extension AccountProof {
    /// Parses an eth_getProof result; malformed fields throw a ProofError naming them.
    public init(json: JSONValue) throws(ProofError) {
        guard case .object(let o) = json else { throw ProofError("eth_getProof result is not an object") }
        func text(_ key: String, in object: [String: JSONValue]) throws(ProofError) -> String {
            guard let s = object[key]?.stringValue else { throw ProofError("\(key) is missing") }
            return s
        }
        func number(_ key: String, in object: [String: JSONValue]) throws(ProofError) -> UInt256 {
            guard let n = UInt256(hexQuantity: try text(key, in: object)) else { throw ProofError("\(key) is not hex") }
            return n
        }
        func hash(_ key: String) throws(ProofError) -> Bytes32 {
            guard let h = Bytes32(hex: try text(key, in: o)) else { throw ProofError("\(key) is not 32 bytes") }
            return h
        }
        func nodes(_ value: JSONValue?, _ key: String) throws(ProofError) -> [[UInt8]] {
            guard let items = value?.arrayValue else { throw ProofError("\(key) is not an array") }
            var out: [[UInt8]] = []
            for item in items {
                guard let s = item.stringValue, let bytes = Hex.decode(s) else { throw ProofError("\(key) node is not hex") }
                out.append(bytes)
            }
            return out
        }
        guard let address = EthereumAddress(hex: try text("address", in: o)) else { throw ProofError("address") }
        guard let storage = o["storageProof"]?.arrayValue else { throw ProofError("storageProof is not an array") }
        var entries: [StorageEntry] = []
        for item in storage {
            guard case .object(let e) = item else { throw ProofError("storageProof entry is not an object") }
            entries.append(
                StorageEntry(
                    key: try number("key", in: e), value: try number("value", in: e),
                    proof: try nodes(e["proof"], "storageProof.proof")))
        }
        self.init(
            address: address, accountProof: try nodes(o["accountProof"], "accountProof"),
            nonce: try number("nonce", in: o), balance: try number("balance", in: o), codeHash: try hash("codeHash"),
            storageHash: try hash("storageHash"), storageProof: entries)
    }
}

extension AccountProof {
    /// The eth_getProof result shape again (for evidence bundles).
    public var json: JSONValue {
        func nodes(_ list: [[UInt8]]) -> JSONValue { .array(list.map { .string(Hex.encode($0)) }) }
        return [
            "address": .string(address.hex), "accountProof": nodes(accountProof), "nonce": .string(nonce.hex),
            "balance": .string(balance.hex), "codeHash": .string(codeHash.hex), "storageHash": .string(storageHash.hex),
            "storageProof": .array(
                storageProof.map { ["key": .string($0.key.hex), "value": .string($0.value.hex), "proof": nodes($0.proof)] }
            ),
        ]
    }
}
