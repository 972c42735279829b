import Foundation
import Testing
import TestSupport

@testable import NodeRegistry

/// The client never trusts the registry: a static file server plays a lying registry.
@Suite struct RegistryClientTests {
    static let key = Ed25519PrivateKey(seed: Array(repeating: 3, count: 32))
    static let other = Ed25519PrivateKey(seed: Array(repeating: 4, count: 32))

    static func entry(_ r: NodeMetadata, trust: Int = 40) -> RegistryEntry {
        RegistryEntry(
            record: r, nodeHash: NodeID(hex: r.nodeID)!.nodeHash, trust: trust, tier: "verified", registered: true,
            verified: true, stakeWei: "0", updatedAt: 1)
    }

    /// Serves `files` (path -> body) with `python3 -m http.server` on a free port.
    static func serve(_ files: [String: Data]) async throws -> (ManagedProcess, String) {
        let dir = try Repo.scratchDirectory("lying-registry")
        let root = dir.appendingPathComponent("www")
        for (path, body) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try body.write(to: url)
        }
        let port = FreePort.next()
        let server = try ManagedProcess(
            name: "http", executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: ["python3", "-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", root.path],
            logDirectory: dir)
        try await server.waitForTCP(port: port)
        return (server, "http://127.0.0.1:\(port)")
    }

    /// Issue 21 finding 9: a registry answering 3xx gets no request sent where it points.
    /// python's http.server redirects `/dir` to `/dir/` (301) and serves `dir/index.html`:
    /// a client following it would get a valid entry.
    @Test func redirectsAreNotFollowed() async throws {
        let good = try NodeMetadata.signed(by: Self.key, ipv4: ["192.0.2.1"], ipv6: [], seq: 1)
        let id = Self.key.publicKey.nodeID
        let (server, url) = try await Self.serve([
            "v1/nodes/\(id.hex)/index.html": try JSONEncoder().encode(Self.entry(good))
        ])
        defer { server.stop() }
        await #expect {
            _ = try await RegistryClient(baseURL: url, timeout: .seconds(5)).fetch(nodeId: id)
        } throws: { error in
            (error as? RegistryClientError)?.kind == .unavailable && (error as? RegistryClientError)?.status == 301
        }
    }

    @Test func verifiesEverythingTheRegistrySays() async throws {
        let good = try NodeMetadata.signed(by: Self.key, ipv4: ["192.0.2.1"], ipv6: [], seq: 1)
        let goodID = Self.key.publicKey.nodeID
        var tampered = good
        tampered.ipv4 = ["192.0.2.66"]
        let otherRecord = try NodeMetadata.signed(by: Self.other, ipv4: ["192.0.2.2"], ipv6: [], seq: 1)
        let tamperedID = NodeID(bytes: Array(repeating: 1, count: 32))!
        let swappedID = NodeID(bytes: Array(repeating: 2, count: 32))!
        let badTrustID = Self.other.publicKey.nodeID  // its own valid record, but trust 101
        let garbageID = NodeID(bytes: Array(repeating: 6, count: 32))!
        let enc = JSONEncoder()
        let (server, url) = try await Self.serve([
            "v1/nodes/\(goodID.hex)": try enc.encode(Self.entry(good)),
            "v1/nodes/\(tamperedID.hex)": try enc.encode(Self.entry(tampered)),
            "v1/nodes/\(swappedID.hex)": try enc.encode(Self.entry(otherRecord)),
            "v1/nodes/\(badTrustID.hex)": try enc.encode(Self.entry(otherRecord, trust: 101)),
            "v1/nodes/\(garbageID.hex)": Data("<html>".utf8),
            "v1/nodes/by-hash/\(goodID.nodeHash.hex)": try enc.encode(Self.entry(good)),
            "v1/nodes/by-hash/\(swappedID.nodeHash.hex)": try enc.encode(Self.entry(good)),
        ])
        defer { server.stop() }
        let client = RegistryClient(baseURL: url + "/", timeout: .seconds(5))

        let ok = try await client.fetch(nodeId: goodID)
        #expect(ok.metadata.record == good && ok.trust == 40)
        #expect(try await client.fetch(nodeHash: goodID.nodeHash).metadata.nodeID == goodID)
        for id in [tamperedID, swappedID, badTrustID, garbageID] {
            await #expect(throws: RegistryClientError.self) { try await client.fetch(nodeId: id) }
            // A body that is not a record at all is a broken backend (serve stale), not a lie.
            let expected: RegistryClientError.Kind = id == garbageID ? .malformed : .invalidResponse
            do { _ = try await client.fetch(nodeId: id) } catch { #expect(error.kind == expected) }
        }
        do { _ = try await client.fetch(nodeHash: swappedID.nodeHash) } catch { #expect(error.kind == .invalidResponse) }
        do {
            _ = try await client.fetch(nodeId: NodeID(bytes: Array(repeating: 9, count: 32))!)
            Issue.record("missing node fetched")
        } catch {
            #expect(error.kind == .notFound && error.status == 404)
        }
    }

    @Test func downOrSilentRegistryIsUnavailable() async throws {
        let id = Self.key.publicKey.nodeID
        let closed = RegistryClient(baseURL: "http://127.0.0.1:\(FreePort.next())", timeout: .seconds(2))
        do { _ = try await closed.fetch(nodeId: id) } catch { #expect(error.kind == .unavailable) }

        // Accepts connections (kernel backlog) but never answers: the timeout fires.
        let port = FreePort.next()
        let dir = try Repo.scratchDirectory("silent-registry")
        let silent = try ManagedProcess(
            name: "silent", executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [
                "python3", "-c",
                "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',\(port))); s.listen(16); time.sleep(60)",
            ],
            logDirectory: dir)
        defer { silent.stop() }
        try await silent.waitForTCP(port: port)
        let client = RegistryClient(baseURL: "http://127.0.0.1:\(port)", timeout: .milliseconds(300))
        let start = ContinuousClock.now
        do {
            _ = try await client.changes(since: 0)
            Issue.record("silent registry answered")
        } catch {
            #expect(error.kind == .unavailable)
        }
        // The silent server would hold the request for 60 s: finishing well before that
        // shows the timeout fired (the bound is loose so a loaded CI machine passes).
        #expect(ContinuousClock.now - start < .seconds(15))
    }
}
