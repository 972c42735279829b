import Foundation
import TestSupport
import Testing

/// Bad configuration exits non-zero naming the key, before anything is served.
@Suite struct ConfigurationIntegrationTests {
    @Test(arguments: [
        ("[server]\nlisten = [\"127.0.0.1\"]\n", [String](), "invalid config key server.listen[0]"),
        ("[chain]\nrpc_urls = [\"http://127.0.0.1:1\"]\ncontract = \"0x12\"\n", [], "invalid config key chain.contract"),
        ("[cache]\nmax_entrees = 5\n", [], "invalid config key cache.max_entrees: unknown key"),
        ("", ["--rpc-url", "http://127.0.0.1:1"], "invalid config key --contract"),
        ("", ["--contract", "0x5FbDB2315678afecb367f032d93F642f64180aa3", "--rpc-url", "ftp://x"], "invalid config key --rpc-url"),
    ])
    func badConfigurationExitsNamingTheKey(toml: String, flags: [String], message: String) throws {
        let dir = try Repo.scratchDirectory("bad-config")
        let file = dir.appendingPathComponent("onebzd.toml")
        try toml.write(to: file, atomically: true, encoding: .utf8)
        let result = try Command.run(
            Repo.product("onebzd").path,
            ["--config", file.path, "--listen", "127.0.0.1:\(FreePort.next())"] + flags)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
    }

    @Test func missingConfigFileIsNamed() throws {
        let result = try Command.run(Repo.product("onebzd").path, ["--config", "/nonexistent/onebzd.toml"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("invalid config key --config: cannot read /nonexistent/onebzd.toml"))
    }
}
