import Foundation

/// Known answers computed by Python `cryptography` + eth_hash (Fixtures/make_vectors.py),
/// shared by the unit tests (NodeRegistryTests) and the CLI/registry integration tests.
public struct Vectors: Decodable, Sendable {
    public struct Record: Decodable, Sendable {
        public let node_id: String
        public let public_key: String
        public let ipv4: [String]
        public let ipv6: [String]
        public let seq: UInt64
        public let signature: String
    }
    public struct Beat: Decodable, Sendable {
        public let node_id: String
        public let timestamp: Int64
        public let signature: String
    }
    public struct Vector: Decodable, Sendable {
        public let seed_hex: String
        public let private_pem: String
        public let public_pem: String
        public let public_raw_base64: String
        public let node_id: String
        public let node_hash: String
        public let dns_name: String
        public let record: Record
        public let canonical_bytes_base64: String
        public let heartbeat: Beat
    }
    public let vectors: [Vector]
    public let encrypted_private_pem: String

    public static let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/registry")

    public static let shared: Vectors = {
        let data = try! Data(contentsOf: fixturesDirectory.appendingPathComponent("vectors.json"))
        return try! JSONDecoder().decode(Vectors.self, from: data)
    }()

    /// A Python with `cryptography`: the devnet venv when present, else the system one.
    public static var python: String {
        let venv = Repo.root.appendingPathComponent(".venv-devnet/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
    }
}
