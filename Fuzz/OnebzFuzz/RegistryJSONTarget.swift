import ChainReader
import Foundation
import NodeRegistry

/// Registry JSON bodies, decoded with `JSONDecoder` as the registry's routes
/// (`POST /v1/records|verify|endorse`: NodeMetadata, Heartbeat, Endorsement) and the
/// registry client in onebzd and the CLI (RegistryEntry, ChangePage, RegistryErrorBody,
/// ProofBundle) do. The input is one JSON body, tried as every type. Invariants:
/// - whatever decodes re-encodes (JSONEncoder) and decodes to an equal value;
/// - `verify()` never traps; a verified record's node id is the SHA-256 of its public
///   key PEM (which is canonical), its node hash the Keccak of that id, its addresses
///   canonical, distinct and sorted;
/// - heartbeats and endorsements verify against the sample key (Fuzz/seeds/registry-json
///   is signed with it) only when their node id / endorser is that key's;
/// - a RegistryEntry is believed only when its record verifies (RegistryClient.verified).
enum RegistryJSONTarget {
    /// The key the seeds are signed with (seed bytes 1...32, as make_seeds.py uses).
    static let key = Ed25519PrivateKey(seed: Array(1...32))

    static func run(_ bytes: [UInt8]) {
        let data = Data(bytes)
        if let record = roundTrip(NodeMetadata.self, data) { check(record) }
        if let heartbeat = roundTrip(Heartbeat.self, data) {
            do throws(RecordError) {
                try heartbeat.verify(with: key.publicKey)
                precondition(NodeID(hex: heartbeat.nodeID) == key.publicKey.nodeID, "heartbeat of another node verified")
            } catch {}
        }
        if let endorsement = roundTrip(Endorsement.self, data) {
            do throws(RecordError) {
                try endorsement.verify(endorserKey: key.publicKey)
                precondition(NodeID(hex: endorsement.endorser) == key.publicKey.nodeID, "endorsement by another node verified")
                precondition(NodeID(hex: endorsement.nodeID) != nil, "endorsement of no node id verified")
            } catch {}
        }
        if let entry = roundTrip(RegistryEntry.self, data) {
            precondition(entry.record == (try? JSONDecoder().decode(NodeMetadata.self, from: data)), "entry's record differs")
            check(entry.record)
        }
        _ = roundTrip(ChangePage.self, data)
        _ = roundTrip(RegistryErrorBody.self, data)
        if let bundle = roundTrip(ProofBundle.self, data), let record = bundle.record { check(record) }
    }

    static func roundTrip<T: Codable & Equatable>(_ type: T.Type, _ data: Data) -> T? {
        guard let value = try? JSONDecoder().decode(T.self, from: data) else { return nil }
        let encoded: Data
        do { encoded = try JSONEncoder().encode(value) } catch { fatalError("\(T.self) does not encode: \(error)") }
        guard let again = try? JSONDecoder().decode(T.self, from: encoded) else {
            fatalError("\(T.self) re-encoded does not decode: \(String(decoding: encoded, as: UTF8.self))")
        }
        precondition(again == value, "\(T.self) round trip changed the value: \(String(decoding: encoded, as: UTF8.self))")
        return value
    }

    static func check(_ record: NodeMetadata) {
        let verified: VerifiedNodeMetadata
        do throws(RecordError) { verified = try record.verify() } catch { return }
        precondition(verified.nodeID == NodeID(publicKeyPEM: Array(record.publicKey.utf8)), "node id is not the key's hash")
        precondition(verified.nodeID.hex == record.nodeID, "node id text differs")
        precondition(verified.publicKey.pem == record.publicKey, "non-canonical key PEM accepted")
        precondition(verified.nodeHash == NodeHash(nodeID: verified.nodeID), "node hash")
        for list in [record.ipv4, record.ipv6] {
            precondition(list.count <= NodeMetadata.maxAddressesPerFamily && Set(list).count == list.count, "addresses \(list)")
            precondition(list == list.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, "unsorted addresses \(list)")
        }
        precondition(record.ipv4.allSatisfy { IPAddress.canonicalIPv4($0) == $0 }, "non-canonical IPv4 \(record.ipv4)")
        precondition(record.ipv6.allSatisfy { IPAddress.canonicalIPv6($0) == $0 }, "non-canonical IPv6 \(record.ipv6)")
    }
}
