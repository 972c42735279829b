import Foundation
import TOMLConfiguration
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

@Suite("[dot] and XoT configuration")
struct DoTConfigurationTests {
    @Test func dotKeysAndTransportParse() throws {
        let config = try ServerConfiguration(
            toml: """
                [dot]
                listen = ["127.0.0.1:8853", "[::1]", "127.0.0.2"]
                cert_file = "c.pem"
                key_file = "k.pem"
                idle_timeout = "20s"
                handshake_timeout = "2s"
                max_connections = 10
                max_connections_per_client = 2
                max_handshakes = 3

                [[transfer.allow]]
                address = "127.0.0.1"
                key = "transfer.1bz"
                transport = "tls"

                [[transfer.allow]]
                address = "10.0.0.0/8"
                key = ""
                client_spki_sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
                """)
        let dot = try #require(config.dot)
        #expect(dot.listen == [HostPort(host: "127.0.0.1", port: 8853), HostPort(host: "::1", port: 853), HostPort(host: "127.0.0.2", port: 853)])
        #expect(dot.certFile == "c.pem" && dot.keyFile == "k.pem")
        #expect(dot.idleTimeout == .seconds(20) && dot.handshakeTimeout == .seconds(2))
        #expect(dot.maxConnections == 10 && dot.maxConnectionsPerClient == 2 && dot.maxHandshakes == 3)
        #expect(config.transfer.allow.map(\.requiresTLS) == [true, true])
        #expect(config.transfer.allow[0].clientKeySHA256 == nil)
        #expect(config.transfer.allow[1].clientKeySHA256?.count == 32)
        #expect(try ServerConfiguration(toml: "").dot == nil)
    }

    @Test func unreadableCertificateFilesNameTheKey() throws {
        var dot = ServerConfiguration.DoT()
        dot.listen = [HostPort(host: "127.0.0.1", port: 853)]
        dot.certFile = "/nonexistent/cert.pem"
        dot.keyFile = "/nonexistent/key.pem"
        var settings = ServerConfiguration()
        settings.dot = dot
        do {
            _ = try OnebzdCommand.dotConfiguration(settings)
            Issue.record("accepted missing files")
        } catch {
            #expect(error.key == "dot.cert_file", "\(error)")
        }
    }
}
