import ChainReader
import Foundation
import Testing

/// Real Polygon PoS headers (Tests/Fixtures/polygon-headers, sources in its README) hash
/// to their block hash with Ethereum's header rule (`BlockHeader+RLP`), also when an
/// endpoint sends later forks' fields as JSON `null` (Bor endpoints have done so for
/// withdrawalsRoot, blobGasUsed, excessBlobGas, parentBeaconBlockRoot): proof mode's
/// header check accepts Polygon blocks.
@Suite struct PolygonHeaderTests {
    struct Vector: Sendable, CustomStringConvertible {
        let file: String
        let chainID: UInt64
        let block: [String: JSONValue]
        var hash: String { block["hash"]?.stringValue ?? "" }
        var description: String { file }
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/polygon-headers")

    static let vectors: [Vector] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.sorted().compactMap { file in
            guard let data = try? Data(contentsOf: directory.appendingPathComponent(file)),
                let top = try? JSONDecoder().decode(JSONValue.self, from: data).objectValue,
                let block = top["block"]?.objectValue, case .number(let id)? = top["chainId"]
            else { return nil }
            return Vector(file: file, chainID: UInt64(id), block: block)
        }
    }()

    /// The later-fork fields Bor endpoints have sent as null.
    static let nullableFields = ["withdrawalsRoot", "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot", "requestsHash"]

    @Test func allNineVectorsAreLoaded() {
        #expect(Self.vectors.count == 9)
        #expect(Set(Self.vectors.map(\.chainID)) == [137, 80001])
    }

    @Test(arguments: vectors)
    func headerHashesToItsBlockHash(_ vector: Vector) throws {
        let hash = try #require(BlockHeader.recomputedHash(json: vector.block))
        #expect(hash.hex == vector.hash.lowercased())
    }

    @Test(arguments: vectors)
    func laterForkFieldsSentAsNullAreLeftOut(_ vector: Vector) throws {
        var withNulls = vector.block
        for key in Self.nullableFields { withNulls[key] = .null }
        #expect(BlockHeader.recomputedHash(json: withNulls)?.hex == vector.hash.lowercased())
        // Encoding them as empty values instead is another header: the hash breaks.
        var asEmpty = vector.block
        asEmpty["withdrawalsRoot"] = .string("0x")
        #expect(BlockHeader.recomputedHash(json: asEmpty)?.hex != vector.hash.lowercased())
    }

    /// What proof mode does with an answer: the header parsed from an eth_getBlockByNumber
    /// result (nulls included, hex in upper case as a hostile endpoint may send it) votes.
    @Test(arguments: vectors)
    func parsedHeaderIsSelfConsistent(_ vector: Vector) throws {
        var block = vector.block
        for key in Self.nullableFields { block[key] = .null }
        block["totalDifficulty"] = .null
        if let root = block["stateRoot"]?.stringValue { block["stateRoot"] = .string("0x" + root.dropFirst(2).uppercased()) }
        let client = JSONRPCClient(url: URL(string: "http://127.0.0.1:9")!)
        let header = try #require(try client.blockHeader(from: .object(block)))
        #expect(header.isSelfConsistent, "\(vector.file)")
        #expect(header.stateRoot?.hex == vector.block["stateRoot"]?.stringValue)
        // A forged stateRoot with the true hash does not vote.
        block["stateRoot"] = .string("0x" + String(repeating: "44", count: 32))
        #expect(try client.blockHeader(from: .object(block))?.isSelfConsistent == false)
    }
}
