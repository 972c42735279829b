import Foundation
import Testing
import TestSupport

/// The lookup page in headless Chromium (tools/browser/lookup_page.py via chromedriver)
/// against a real onebzd. Without a chain source the page must render the gateway's
/// "not configured" error; against the full demo the lead runs scripts/browser-test
/// with a node name and its expected values.
@Suite(.serialized) struct BrowserTests {
    static let chromedriver = "/usr/bin/chromedriver"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: chromedriver), "chromium-driver is not installed"))
    func pageRendersTheGatewayAnswer() async throws {
        let server = try await GatewayProcess(label: "browser")
        let screenshot = server.directory.appendingPathComponent("lookup-page.png")
        let result = try await Command.runAsync(
            "python3",
            [
                Repo.root.appendingPathComponent("tools/browser/lookup_page.py").path,
                "--base-url", server.baseURL, "--name", "shashi.1bz",
                "--expect-error", "not configured", "--screenshot", screenshot.path,
                "--chromedriver", Self.chromedriver,
            ])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("\"r-error\""))
        let png = try Data(contentsOf: screenshot)
        #expect(png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]), "a PNG screenshot")
    }
}
