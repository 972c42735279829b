import ChainReader
import DNSWire
import Foundation
import NodeRegistry
import OneBZResolver
import Testing

/// The zone snapshot's file: what is written is read back whole; anything altered,
/// torn, of another format, chain or contract is refused with the reason.
@Suite struct ZoneSnapshotFileTests {
    static let identity = ZoneSnapshot.Identity(
        chainID: 1337, contract: EthereumAddress(hex: "0x5fbdb2315678afecb367f032d93f642f64180aa3")!)
    static let checkpoint = ChainCheckpoint(number: 4242, hash: Bytes32(Keccak256.hash("block 4242"))!)

    static func hash(_ n: Int) -> NodeHash { NodeHash(Keccak256.hash("node \(n)"))! }

    /// Three nodes: two materialised with records (one stale), one not materialised yet.
    static func names() -> MaterializedNames {
        var names = MaterializedNames()
        let records = [NodePayload.Record(type: .txt, rdata: [4, 0x61, 0x3D, 0x31, 0x32])]
        names.restore(
            hash: hash(1), payload: NodePayload(alias: Array("alpha".utf8), records: records).encoded(), touched: 10,
            stale: false, materialised: true)
        names.restore(
            hash: hash(2), payload: NodePayload(alias: Array("beta".utf8), records: records).encoded(), touched: 20,
            stale: true, materialised: true)
        names.restore(
            hash: hash(3), payload: NodePayload(alias: Array("gamma".utf8)).encoded(), touched: 30, stale: false,
            materialised: false)
        return names
    }

    static func file(_ label: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("zone-snapshot-\(label)-\(UUID()).bin").path
    }

    static func written(_ label: String) throws -> String {
        let path = file(label)
        let view = ZoneSnapshot.View(checkpoint: checkpoint, serial: 77, entries: names().entries)
        try ZoneSnapshotFile.write(view, identity: identity, to: path)
        return path
    }

    @Test func roundTrip() throws {
        let path = try Self.written("round")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        let snapshot = try #require(try ZoneSnapshotFile.read(path, expecting: Self.identity))
        #expect(snapshot.identity == Self.identity && snapshot.checkpoint == Self.checkpoint && snapshot.serial == 77)
        let original = Self.names()
        // Stale: beta, and gamma (not materialised: to be resolved).
        #expect(snapshot.names.count == 3 && snapshot.names.unmaterialised == 1 && snapshot.names.dirtyCount == 2)
        for (a, b) in zip(snapshot.names.entries, original.entries) {
            #expect(a.hash == b.hash && a.payload == b.payload && a.touched == b.touched)
            #expect(a.dirty == b.dirty && a.materialised == b.materialised)
        }
        #expect(snapshot.names.payload(for: .alias("alpha.1bz"))?.stale == false)
        #expect(snapshot.names.payload(for: .alias("beta.1bz"))?.stale == true)
        #expect(snapshot.names.payload(for: .alias("gamma.1bz")) == nil, "not materialised: no records to answer")
        #expect(snapshot.names.contains(hash: Self.hash(3)))
    }

    /// A node the materialiser took and has not committed is written stale: its payload
    /// may be older than the event that marked it.
    @Test func aNodeBeingResolvedIsWrittenStale() throws {
        var names = MaterializedNames()
        names.register(hash: Self.hash(9), alias: "delta.1bz", block: 5)
        _ = names.takeDirty()
        #expect(names.dirtyCount == 0 && names.entries[0].isStale)
        let path = Self.file("pending")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ZoneSnapshotFile.write(
            ZoneSnapshot.View(checkpoint: Self.checkpoint, serial: 1, entries: names.entries), identity: Self.identity,
            to: path)
        let snapshot = try #require(try ZoneSnapshotFile.read(path, expecting: Self.identity))
        #expect(snapshot.names.dirtyCount == 1)
    }

    @Test func noFileIsNil() throws {
        #expect(try ZoneSnapshotFile.read(Self.file("absent"), expecting: Self.identity) == nil)
    }

    struct Damage: Sendable, CustomTestStringConvertible {
        let label: String
        let reason: String
        let change: @Sendable (inout [UInt8]) -> Void
        var testDescription: String { label }
    }

    static let damages: [Damage] = [
        Damage(label: "truncated", reason: "truncated") { $0.removeLast($0.count / 2) },
        Damage(label: "one byte flipped", reason: "checksum mismatch") { $0[$0.count / 2] ^= 0x01 },
        Damage(label: "other format version", reason: "format version 2") { $0[11] = 2 },
        Damage(label: "trailing bytes", reason: "after the end") { $0 += [0] },
        Damage(label: "not a snapshot", reason: "bad magic") { $0[0] = 0x7B },
    ]

    @Test(arguments: damages)
    func damagedFilesAreRefused(_ damage: Damage) throws {
        let path = try Self.written("damage")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        damage.change(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let refusal = #expect(throws: ZoneSnapshotRefusal.self) {
            _ = try ZoneSnapshotFile.read(path, expecting: Self.identity)
        }
        #expect(refusal?.reason.contains(damage.reason) == true, "\(refusal?.reason ?? "not refused")")
    }

    @Test func anotherChainOrContractIsRefused() throws {
        let path = try Self.written("identity")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var otherChain = Self.identity
        otherChain.chainID = 137
        var otherContract = Self.identity
        otherContract.contract = EthereumAddress(hex: "0x0000000000000000000000000000000000000001")!
        for (identity, reason) in [(otherChain, "chain id 1337"), (otherContract, "contract 0x5fbdb")] {
            let refusal = #expect(throws: ZoneSnapshotRefusal.self) {
                _ = try ZoneSnapshotFile.read(path, expecting: identity)
            }
            #expect(refusal?.reason.contains(reason) == true, "\(refusal?.reason ?? "not refused")")
        }
    }
}
