import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct CommandLineIntegrationTests {
    @Test func badZoneExitsNamingFileAndLine() throws {
        let dir = try Repo.scratchDirectory("badzone")
        let path = dir.appendingPathComponent("bad.zone").path
        try "$ORIGIN 1bz.\n$TTL 300\n@ IN SOA ns1 host 1 2 3 4 5\n@ IN NS ns1\nns1 IN A 999.1.1.1\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let result = try Command.run(
            Repo.product("onebzd").path, ["--zone", path, "--listen", "127.0.0.1:\(FreePort.next())"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(path):5"), "\(result.stderr)")
    }

    @Test(arguments: [
        (["--listen", "nonsense"], "--listen"),
        (["--listen", "127.0.0.1:99999"], "--listen"),
        (["--tcp-idle-timeout", "0"], "--tcp-idle-timeout"),
        (["--log-level", "loud"], "--log-level"),
        (["--no-such-flag"], "--no-such-flag"),
    ])
    func badFlagsExitNamingTheFlag(arguments: [String], flag: String) throws {
        let result = try Command.run(Repo.product("onebzd").path, arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains(flag), "\(result.stderr)")
    }

    @Test func helpExplainsEveryFlag() throws {
        let result = try Command.run(Repo.product("onebzd").path, ["--help"])
        #expect(result.status == 0)
        for flag in [
            "--zone", "--origin", "--listen", "--identity", "--version-string", "--no-chaos", "--tcp-idle-timeout",
            "--tcp-max-connections", "--threads", "--log-level",
        ] {
            #expect(result.stdout.contains(flag), "\(flag)")
        }
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func stopsGracefullyOnSignal(signal: Int32) async throws {
        let server = try await OnebzdServer(label: "signal")
        let status = server.process.stop(signal: signal, grace: .seconds(5))
        #expect(status == 0, "\(server.process.stderr())")
        #expect(server.process.stderr().contains("shutting down"))
        #expect(!FreePort.isAcceptingTCP(port: server.port))
    }
}
