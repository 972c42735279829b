import Foundation
import TestSupport

/// Known answers computed by Python `cryptography` + eth_hash (Fixtures/make_vectors.py).
struct Vectors: Decodable {
    struct Record: Decodable {
        let node_id: String
        let public_key: String
        let ipv4: [String]
        let ipv6: [String]
        let seq: UInt64
        let signature: String
    }
    struct Beat: Decodable {
        let node_id: String
        let timestamp: Int64
        let signature: String
    }
    struct Vector: Decodable {
        let seed_hex: String
        let private_pem: String
        let public_pem: String
        let public_raw_base64: String
        let node_id: String
        let node_hash: String
        let dns_name: String
        let record: Record
        let canonical_bytes_base64: String
        let heartbeat: Beat
    }
    let vectors: [Vector]
    let encrypted_private_pem: String

    static let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/registry")

    static let shared: Vectors = {
        let data = try! Data(contentsOf: fixturesDirectory.appendingPathComponent("vectors.json"))
        return try! JSONDecoder().decode(Vectors.self, from: data)
    }()

    /// A Python with `cryptography`: the devnet venv when present, else the system one.
    static var python: String {
        let venv = Repo.root.appendingPathComponent(".venv-devnet/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
    }
}
