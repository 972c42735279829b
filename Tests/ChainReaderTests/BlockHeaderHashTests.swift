import ChainReader
import Foundation
import Testing

/// BlockHeader+RLP: a header's hash recomputed from the fields eth_getBlockByNumber sends,
/// against headers it did not make (the devnet's, hashed by py-evm; two of Ethereum
/// mainnet's), and what a forged field does to it.
@Suite struct BlockHeaderHashTests {
    static func object(_ json: String) throws -> [String: JSONValue] {
        try #require(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)).objectValue)
    }

    static func text(_ object: [String: JSONValue]) throws -> String {
        String(decoding: try JSONEncoder().encode(JSONValue.object(object)), as: UTF8.self)
    }

    /// A devnet header with `changes` applied and its hash set to what its fields hash
    /// to: a self-consistent header of another block (for agreement tests).
    static func consistentHeader(number: UInt64, changes: [String: JSONValue] = [:]) throws -> String {
        var object = try Self.object(HeaderVectors.devnet[0].json)
        object["number"] = .string(Hex.quantity(number))
        object.merge(changes) { $1 }
        object["hash"] = .string(try #require(BlockHeader.recomputedHash(json: object)).hex)
        return try text(object)
    }

    @Test(arguments: HeaderVectors.devnet + HeaderVectors.mainnet)
    func recomputedHashIsTheBlockHash(_ vector: HeaderVectors.Vector) throws {
        let object = try Self.object(vector.json)
        #expect(BlockHeader.recomputedHash(json: object)?.hex == vector.hash, "\(vector.label)")
        #expect(object["hash"]?.stringValue == vector.hash)
    }

    @Test(arguments: HeaderVectors.devnet.suffix(1) + HeaderVectors.mainnet.prefix(1))
    func anyForgedFieldChangesTheHash(_ vector: HeaderVectors.Vector) throws {
        let object = try Self.object(vector.json)
        for (key, forged) in [
            ("stateRoot", "0x" + String(repeating: "44", count: 32)), ("number", "0x1234"),
            ("extraData", "0x01"), ("receiptsRoot", "0x" + String(repeating: "55", count: 32)),
        ] {
            var changed = object
            changed[key] = .string(forged)
            let hash = try #require(BlockHeader.recomputedHash(json: changed))
            #expect(hash.hex != vector.hash, "\(vector.label): \(key)")
        }
        // A later fork's field left out: another header (another hash), not an error.
        var older = object
        older["baseFeePerGas"] = nil
        #expect(BlockHeader.recomputedHash(json: older).map(\.hex) != vector.hash)
    }

    @Test func missingOrMalformedLegacyFieldsCannotBeChecked() throws {
        let object = try Self.object(HeaderVectors.mainnet[0].json)
        for key in ["parentHash", "stateRoot", "mixHash", "nonce", "extraData"] {
            var changed = object
            changed[key] = nil
            #expect(BlockHeader.recomputedHash(json: changed) == nil, "\(key) missing")
        }
        var malformed = object
        malformed["stateRoot"] = .string("0xnothex")
        #expect(BlockHeader.recomputedHash(json: malformed) == nil)
        malformed = object
        malformed["gasUsed"] = .number(5)
        #expect(BlockHeader.recomputedHash(json: malformed) == nil)
    }

    /// The legacy fields alone (the genesis) encode to the Yellow Paper's 15-item list.
    @Test func genesisEncodesFifteenItems() throws {
        let rlp = try #require(BlockHeader.rlp(json: try Self.object(HeaderVectors.mainnet[1].json)))
        let items = try RLPDecoder.decode(rlp).listValue
        #expect(items?.count == 15)
    }
}
