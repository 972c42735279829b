import Foundation
import HTTPGateway
import Hummingbird
import HummingbirdTesting
import Logging
import NIOPosix
import TestSupport
import Testing

/// The page's success path in headless Chromium: a live gateway (real sockets) with the
/// `FixedNodeLookup` fake, driven by tools/browser/lookup_page.py through chromedriver.
/// (IntegrationTests.BrowserTests covers the real onebzd; the full chain-backed run is
/// `scripts/browser-test` against the demo.)
@Suite struct BrowserPageTests {
    static let chromedriver = "/usr/bin/chromedriver"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: chromedriver), "chromium-driver is not installed"))
    func pageRendersANode() async throws {
        let fixture = GatewayFixture(nodeLookup: FixedNodeLookup())
        let app = try fixture.gateway.application(
            host: "127.0.0.1", port: 0, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "browser-page-test"))
        let directory = try Repo.scratchDirectory("browser-page")
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let node = FixedNodeLookup.shashi
            let result = try await Command.runAsync(
                "python3",
                [
                    Repo.root.appendingPathComponent("tools/browser/lookup_page.py").path,
                    "--base-url", "http://127.0.0.1:\(port)", "--name", "shashi.1bz",
                    "--expect-node-id", node.nodeID, "--expect-address", "203.0.113.7",
                    "--expect-address", "2001:db8::7", "--expect-verified", "verified",
                    "--expect-signature", "checked", "--expect-trust", "87",
                    "--screenshot", directory.appendingPathComponent("lookup-page-node.png").path,
                    "--chromedriver", Self.chromedriver,
                ])
            #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        }
    }
}
