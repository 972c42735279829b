/// Solidity ABI encoding and decoding for `ABIType`, selectors and event topics.
/// https://docs.soliditylang.org/en/latest/abi-spec.html
public enum ABI {
    /// The 4-byte function selector: the first bytes of keccak256("name(type,...)").
    public static func selector(_ signature: String) -> [UInt8] {
        Array(Keccak256.hash(signature).prefix(4))
    }

    /// topic0 of an event: keccak256("Name(type,...)").
    public static func eventTopic(_ signature: String) -> Bytes32 {
        Bytes32(unchecked: Keccak256.hash(signature))
    }

    /// Calldata: selector + the encoded arguments.
    public static func encodeCall(_ signature: String, _ arguments: [ABIValue]) -> [UInt8] {
        selector(signature) + encode(arguments)
    }

    /// The arguments encoded as one tuple (how calldata and return data are laid out).
    public static func encode(_ values: [ABIValue]) -> [UInt8] {
        var head: [UInt8] = []
        var tail: [UInt8] = []
        let headSize = values.reduce(0) { $0 + $1.type.headSize }
        for value in values {
            if value.type.isDynamic {
                head += word(UInt64(headSize + tail.count))
                tail += encodeValue(value)
            } else {
                head += encodeValue(value)
            }
        }
        return head + tail
    }

    private static func encodeValue(_ value: ABIValue) -> [UInt8] {
        switch value {
        case .uint256(let v): v.bigEndianBytes
        case .address(let a): [UInt8](repeating: 0, count: 12) + a.bytes
        case .bool(let b): word(b ? 1 : 0)
        case .bytes32(let b): b.bytes
        case .string(let s):
            word(UInt64(s.utf8.count)) + Array(s.utf8)
                + [UInt8](repeating: 0, count: (32 - s.utf8.count % 32) % 32)
        case .tuple(let values): encode(values)
        }
    }

    static func word(_ value: UInt64) -> [UInt8] { UInt256(value).bigEndianBytes }

    /// Decodes `data` as the tuple `types` (return data, event data). Strict: bools must
    /// be 0/1, addresses zero-padded, offsets and lengths inside the data, strings UTF-8.
    public static func decode(_ types: [ABIType], from data: [UInt8]) throws -> [ABIValue] {
        try data.withUnsafeBufferPointer { buffer in
            try decodeTuple(types, in: buffer, at: 0)
        }
    }

    private static func decodeTuple(
        _ types: [ABIType], in data: UnsafeBufferPointer<UInt8>, at base: Int
    ) throws -> [ABIValue] {
        var values: [ABIValue] = []
        values.reserveCapacity(types.count)
        var position = base
        for type in types {
            if type.isDynamic {
                let offset = try readLength(data, at: position, what: "offset of \(type.canonicalName)")
                let (start, overflow) = base.addingReportingOverflow(offset)
                guard !overflow, start <= data.count else {
                    throw ABIError.badOffset("offset \(offset) at byte \(position) points outside \(data.count) bytes")
                }
                values.append(try decodeValue(type, in: data, at: start))
            } else {
                values.append(try decodeValue(type, in: data, at: position))
            }
            position += type.headSize
        }
        return values
    }

    private static func decodeValue(
        _ type: ABIType, in data: UnsafeBufferPointer<UInt8>, at position: Int
    ) throws -> ABIValue {
        switch type {
        case .uint256:
            return .uint256(UInt256(bigEndianBytes: try readWord(data, at: position))!)
        case .bytes32:
            return .bytes32(Bytes32(unchecked: try readWord(data, at: position)))
        case .address:
            let w = try readWord(data, at: position)
            guard w[0..<12].allSatisfy({ $0 == 0 }) else {
                throw ABIError.badValue("address at byte \(position) has non-zero padding")
            }
            return .address(EthereumAddress(unchecked: Array(w[12...])))
        case .bool:
            let w = try readWord(data, at: position)
            guard w[0..<31].allSatisfy({ $0 == 0 }), w[31] <= 1 else {
                throw ABIError.badValue("bool at byte \(position) is neither 0 nor 1")
            }
            return .bool(w[31] == 1)
        case .string:
            let length = try readLength(data, at: position, what: "string length")
            let start = position + 32
            guard length <= data.count - min(start, data.count), start <= data.count else {
                throw ABIError.truncated("string of \(length) bytes at byte \(position) exceeds \(data.count) bytes")
            }
            let bytes = UnsafeBufferPointer(rebasing: data[start..<start + length])
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw ABIError.invalidUTF8("string at byte \(position) is not UTF-8")
            }
            return .string(text)
        case .tuple(let components):
            return .tuple(try decodeTuple(components, in: data, at: position))
        }
    }

    private static func readWord(_ data: UnsafeBufferPointer<UInt8>, at position: Int) throws -> [UInt8] {
        guard position >= 0, position <= data.count - 32 else {
            throw ABIError.truncated("need 32 bytes at byte \(position), have \(data.count)")
        }
        return Array(data[position..<position + 32])
    }

    /// An offset or length word: must fit comfortably in Int (and the data).
    private static func readLength(_ data: UnsafeBufferPointer<UInt8>, at position: Int, what: String) throws -> Int {
        let w = try readWord(data, at: position)
        guard w[0..<28].allSatisfy({ $0 == 0 }) else {
            throw ABIError.badOffset("\(what) at byte \(position) is too large")
        }
        let value = w[28...].reduce(0) { $0 << 8 | Int($1) }
        guard value <= data.count else {
            throw ABIError.badOffset("\(what) \(value) at byte \(position) exceeds \(data.count) bytes")
        }
        return value
    }
}
