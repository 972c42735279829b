import Foundation
import Testing

@testable import onebzd

@Suite("[transfer] configuration")
struct TransferConfigurationTests {
    @Test func transferKeysParse() throws {
        let config = try ServerConfiguration(
            toml: """
                [transfer]
                tsig_key_files = ["keys/tsig.key"]
                notify_retry = "500ms"
                notify_max_retry = "30s"
                journal_max_versions = 50
                journal_max_age = "2h"

                [[transfer.allow]]
                address = "10.53.0.0/24"
                key = "transfer.1bz"

                [[transfer.allow]]
                address = "::1"
                key = ""

                [[transfer.notify]]
                address = "10.53.0.2:53"
                key = "transfer.1bz"

                [[transfer.notify]]
                address = "[::1]:5354"
                """)
        let transfer = config.transfer
        #expect(transfer.tsigKeyFiles == ["keys/tsig.key"])
        #expect(transfer.allow.map(\.address) == ["10.53.0.0/24", "::1"])
        #expect(transfer.allow.map(\.key) == ["transfer.1bz", nil])
        #expect(transfer.notify.map(\.address) == [HostPort(host: "10.53.0.2", port: 53), HostPort(host: "::1", port: 5354)])
        #expect(transfer.notify.map(\.key) == ["transfer.1bz", nil])
        #expect(transfer.notifyRetry == .milliseconds(500) && transfer.notifyMaxRetry == .seconds(30))
        #expect(transfer.journalMaxVersions == 50 && transfer.journalMaxAge == .seconds(7200))
        #expect(transfer.isEnabled)
        #expect(try !ServerConfiguration(toml: "").transfer.isEnabled)
    }

    @Test(arguments: [
        ("[[transfer.allow]]\naddress = \"10.0.0.0/8\"", "transfer.allow[0].key"),
        ("[[transfer.allow]]\nkey = \"k\"", "transfer.allow[0].address"),
        ("[[transfer.allow]]\naddress = \"10.0.0.0/33\"\nkey = \"k\"", "transfer.allow[0].address"),
        ("[[transfer.allow]]\naddress = \"10.0.0.0/8\"\nkey = \"k\"\nkeys = 1", "transfer.allow[0].keys"),
        ("[[transfer.notify]]\naddress = \"10.0.0.1\"", "transfer.notify[0].address"),
        ("[transfer]\nallow = \"10.0.0.0/8\"", "transfer.allow"),
        ("[transfer]\nnotify_retry = \"0s\"", "transfer.notify_retry"),
        ("[transfer]\nnotify_retry = \"5s\"\nnotify_max_retry = \"1s\"", "transfer.notify_max_retry"),
        ("[transfer]\njournal_max_versions = -1", "transfer.journal_max_versions"),
        ("[transfer]\nallowed = []", "transfer.allowed"),
    ])
    func badTransferKeysNameTheKey(toml: String, key: String) {
        do {
            _ = try ServerConfiguration(toml: toml)
            Issue.record("accepted: \(toml)")
        } catch {
            #expect(error.key == key, "\(error)")
        }
    }

    @Test func setupReadsKeyFilesAndFindsEveryNamedKey() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("onebzd-tsig-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("tsig.key").path
        try "key \"transfer.1bz\" { algorithm hmac-sha256; secret \"MDEyMzQ1Njc4OWFiY2RlZg==\"; };\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        // World-readable (as written): refused, naming the file and the fix.
        do {
            var readable = ServerConfiguration.Transfer()
            readable.tsigKeyFiles = [file]
            _ = try TransferSetup(readable)
            Issue.record("a world-readable key file was accepted")
        } catch {
            #expect(error.key == "transfer.tsig_key_files[0]" && error.problem.contains("chmod 600"), "\(error)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        var transfer = ServerConfiguration.Transfer()
        transfer.tsigKeyFiles = [file]
        transfer.allow = [.init(address: "127.0.0.0/8", key: "transfer.1bz"), .init(address: "::1", key: nil)]
        transfer.notify = [.init(address: HostPort(host: "127.0.0.1", port: 5354), key: "transfer.1bz.")]
        let setup = try TransferSetup(transfer)
        #expect(setup.acl.entries.count == 2 && setup.acl.entries[1].key == nil)
        #expect(setup.notifyTargets.first?.key?.secret == Array("0123456789abcdef".utf8))

        transfer.allow[0].key = "missing.key"
        #expect(throws: ConfigurationError.self) { try TransferSetup(transfer) }
        do {
            _ = try TransferSetup(transfer)
            Issue.record("a missing key was accepted")
        } catch { #expect(error.key == "transfer.allow[0].key") }
        transfer.allow[0].key = nil
        transfer.tsigKeyFiles = [directory.appendingPathComponent("absent.key").path]
        do {
            _ = try TransferSetup(transfer)
            Issue.record("an absent key file was accepted")
        } catch {
            #expect(error.key == "transfer.tsig_key_files[0]" && error.problem.contains("cannot read"))
        }
    }
}
