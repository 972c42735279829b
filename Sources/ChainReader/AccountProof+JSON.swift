/// AccountProof from and to the eth_getProof result (EIP-1186) JSON.
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
                guard let s = item.stringValue, let bytes = Hex.decode(s) else {
                    throw ProofError("\(key) node is not hex")
                }
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
                storageProof.map {
                    ["key": .string($0.key.hex), "value": .string($0.value.hex), "proof": nodes($0.proof)]
                }
            ),
        ]
    }
}
