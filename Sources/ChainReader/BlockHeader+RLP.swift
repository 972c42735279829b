/// A block's hash recomputed from its header fields: keccak256(RLP(header)). The
/// header is the list of the Yellow Paper's 15 fields (section 4.3) followed by those
/// later forks appended: baseFeePerGas (London, EIP-1559), withdrawalsRoot (Shanghai,
/// EIP-4895), blobGasUsed and excessBlobGas (Cancun, EIP-4844), parentBeaconBlockRoot
/// (Cancun, EIP-4788), requestsHash (Prague, EIP-7685). Endpoints send exactly the
/// fields of the block's fork, so the optional ones present are encoded, in order; a
/// field a fork does not have is absent from the JSON, never null.
extension BlockHeader {
    enum FieldKind { case data, quantity }

    /// eth_getBlockByNumber keys in header order; `optional` ones come from later forks.
    static let fields: [(key: String, kind: FieldKind, optional: Bool)] = [
        ("parentHash", .data, false), ("sha3Uncles", .data, false), ("miner", .data, false),
        ("stateRoot", .data, false), ("transactionsRoot", .data, false), ("receiptsRoot", .data, false),
        ("logsBloom", .data, false), ("difficulty", .quantity, false), ("number", .quantity, false),
        ("gasLimit", .quantity, false), ("gasUsed", .quantity, false), ("timestamp", .quantity, false),
        ("extraData", .data, false), ("mixHash", .data, false), ("nonce", .data, false),
        ("baseFeePerGas", .quantity, true), ("withdrawalsRoot", .data, true), ("blobGasUsed", .quantity, true),
        ("excessBlobGas", .quantity, true), ("parentBeaconBlockRoot", .data, true), ("requestsHash", .data, true),
    ]

    /// The RLP encoding of the header an eth_getBlockByNumber result describes; nil when
    /// a field of the Yellow Paper's list is missing or a field is not hex.
    public static func rlp(json object: [String: JSONValue]) -> [UInt8]? {
        var items: [RLP] = []
        items.reserveCapacity(fields.count)
        for field in fields {
            guard let value = object[field.key], !value.isNull else {
                if field.optional { continue }
                return nil
            }
            guard let text = value.stringValue else { return nil }
            switch field.kind {
            case .data:
                guard let bytes = Hex.decode(text) else { return nil }
                items.append(.bytes(bytes))
            case .quantity:
                guard let number = UInt256(hexQuantity: text) else { return nil }
                items.append(.uint256(number))
            }
        }
        return RLP.list(items).encoded
    }

    /// keccak256 of `rlp(json:)`.
    public static func recomputedHash(json object: [String: JSONValue]) -> Bytes32? {
        rlp(json: object).map { Bytes32(unchecked: Keccak256.hash($0)) }
    }
}
