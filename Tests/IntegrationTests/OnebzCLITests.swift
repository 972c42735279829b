import Foundation
import NodeRegistry
import Testing
import TestSupport

/// The `onebz` executable, end to end.
@Suite struct OnebzCLITests {
    static let onebz = Repo.product("onebz").path

    static func write(_ text: String, _ name: String) throws -> String {
        let dir = try Repo.scratchDirectory("onebz-cli")
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func idPrintsNodeIDHashAndNames() throws {
        let v = Vectors.shared.vectors[0]
        let path = try Self.write(v.public_pem, "node_public.pem")
        let r = try Command.run(Self.onebz, ["id", path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("node_id:  \(v.node_id)\n"))
        #expect(r.stdout.contains("nodeHash: \(v.node_hash)\n"))
        #expect(r.stdout.contains("dns:      \(v.dns_name)\n"))
        #expect(r.stdout.contains("pk:       ed25519:\(v.public_raw_base64)\n"))
    }

    @Test func signPrintsAVerifiableRecord() throws {
        let v = Vectors.shared.vectors[1]
        let key = try Self.write(v.private_pem, "plain.pem")
        let r = try Command.run(
            Self.onebz, ["sign", "--key", key, "--ipv4", "192.0.2.1", "--ipv6", "2001:DB8::7", "--seq", "77"])
        #expect(r.status == 0, "\(r.stderr)")
        let record = try JSONDecoder().decode(NodeMetadata.self, from: Data(r.stdout.utf8))
        #expect(record.seq == 77 && record.ipv6 == ["2001:db8::7"] && record.nodeID == v.node_id)
        try record.verify()
    }

    @Test func encryptedKeyAndBadAddressGiveClearErrors() throws {
        let enc = try Self.write(Vectors.shared.encrypted_private_pem, "node_private.pem")
        let r = try Command.run(Self.onebz, ["sign", "--key", enc, "--ipv4", "192.0.2.1", "--seq", "1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("ONEBZ_KEY_PASSWORD") && r.stderr.contains("--key-password-file"), "\(r.stderr)")
        // identity.py's encrypted key (cryptography's BestAvailableEncryption, password "secret")
        let wrong = try Command.run(
            Self.onebz, ["sign", "--key", enc, "--ipv4", "192.0.2.1", "--seq", "1"],
            environment: ["ONEBZ_KEY_PASSWORD": "not it"])
        #expect(wrong.status != 0 && wrong.stderr.contains("wrong password"), "\(wrong.stderr)")
        let right = try Command.run(
            Self.onebz, ["sign", "--key", enc, "--ipv4", "192.0.2.1", "--seq", "1"],
            environment: ["ONEBZ_KEY_PASSWORD": "secret"])
        #expect(right.status == 0, "\(right.stderr)")
        #expect(right.stdout.contains("\"seq\" : 1"), "\(right.stdout)")
        let plain = try Self.write(Vectors.shared.vectors[0].private_pem, "plain.pem")
        let bad = try Command.run(Self.onebz, ["sign", "--key", plain, "--ipv4", "1.2.3", "--seq", "1"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("1.2.3"))
    }

    @Test func publishAndHeartbeatAgainstTheRegistry() async throws {
        let h = try await RegistryHarness("onebz-publish")
        defer { h.stop() }
        let shashi = h.samples[0]
        let pub = try Command.run(
            Self.onebz,
            ["publish", "--registry", h.baseURL, "--key", shashi.privateKeyPath, "--ipv4", "127.0.0.50"])
        #expect(pub.status == 0, "\(pub.stderr)")
        let entry = try JSONDecoder().decode(RegistryEntry.self, from: Data(pub.stdout.utf8))
        #expect(entry.record.nodeID == shashi.nodeID && entry.record.ipv4 == ["127.0.0.50"])
        #expect(entry.record.seq > 1_700_000_000)  // default seq: Unix time
        let hb = try Command.run(Self.onebz, ["heartbeat", "--registry", h.baseURL, "--key", shashi.privateKeyPath])
        #expect(hb.status == 0, "\(hb.stderr)")
        let (status, body) = try h.http("GET", "/v1/nodes/\(shashi.nodeID)")
        #expect(status == 200)
        #expect(body.contains(#""trust":40"#) && body.contains(#""tier":"verified""#))
    }

    @Test func heartbeatEveryKeepsSendingUntilStopped() async throws {
        let h = try await RegistryHarness("onebz-heartbeat-every")
        defer { h.stop() }
        let shashi = h.samples[0]
        _ = try Command.run(
            Self.onebz, ["publish", "--registry", h.baseURL, "--key", shashi.privateKeyPath, "--ipv4", "127.0.0.51"])
        let dir = try Repo.scratchDirectory("onebz-heartbeat-every")
        let beats = try ManagedProcess(
            name: "heartbeat", executable: URL(fileURLWithPath: Self.onebz),
            arguments: ["heartbeat", "--registry", h.baseURL, "--key", shashi.privateKeyPath, "--every", "1s"],
            logDirectory: dir)
        try await beats.waitUntil(timeout: .seconds(20)) {
            beats.stdout().components(separatedBy: "heartbeat ok").count > 2
        }
        #expect(beats.isRunning, "runs until stopped")
        _ = beats.stop()
        #expect(!beats.isRunning)
        let bad = try Command.run(
            Self.onebz, ["heartbeat", "--registry", h.baseURL, "--key", shashi.privateKeyPath, "--every", "soon"])
        #expect(bad.status != 0 && bad.stderr.contains("--every"))
    }
}
