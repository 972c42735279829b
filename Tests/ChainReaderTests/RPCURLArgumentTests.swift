import Foundation
import Testing

@testable import ChainReader

/// Issue 21, finding 9: an RPC URL with an API key given as a flag is readable by every
/// user in `ps`. A flag may instead name an environment variable or a file.
struct RPCURLArgumentTests {
    static let secretURL = "https://polygon.example/v2/SECRET-KEY"

    @Test func aPlainURLIsItself() throws {
        #expect(try RPCURLArgument.resolve("http://127.0.0.1:8545", flag: "--rpc").absoluteString == "http://127.0.0.1:8545")
    }

    @Test func envNameReadsTheVariable() throws {
        let url = try RPCURLArgument.resolve("env:POLYGON_RPC", flag: "--rpc", environment: ["POLYGON_RPC": Self.secretURL])
        #expect(url.absoluteString == Self.secretURL)
        #expect(throws: RPCURLArgument.Failure.self) {
            try RPCURLArgument.resolve("env:MISSING", flag: "--rpc", environment: [:])
        }
    }

    @Test func atFileReadsItsFirstLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rpc-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try (Self.secretURL + "\n# comment\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try RPCURLArgument.resolve("@" + path, flag: "--rpc").absoluteString == Self.secretURL)
    }

    @Test func anErrorNeverEchoesWhatCameFromTheEnvironment() {
        do {
            _ = try RPCURLArgument.resolve("env:BAD", flag: "--rpc", environment: ["BAD": "ftp://SECRET-KEY@x"])
            Issue.record("accepted")
        } catch {
            #expect(!error.description.contains("SECRET-KEY") && error.description.contains("env:BAD"))
        }
    }
}
