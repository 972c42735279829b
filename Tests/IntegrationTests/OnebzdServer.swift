import Foundation
import TestSupport

/// A real `onebzd` on a free loopback port, stopped by PID when the test ends.
final class OnebzdServer: Sendable {
    let port: Int
    let process: ManagedProcess
    let directory: URL

    /// Starts onebzd with the shipped zone (or `zone`) and waits until TCP accepts.
    init(zone: String? = nil, label: String = "onebzd", extraArguments: [String] = [], port: Int? = nil) async throws {
        self.port = port ?? FreePort.next()
        directory = try Repo.scratchDirectory(label)
        let zonePath = zone ?? Repo.root.appendingPathComponent("zones/1bz.zone").path
        process = try ManagedProcess(
            name: "onebzd", executable: Repo.product("onebzd"),
            arguments: ["--zone", zonePath, "--listen", "127.0.0.1:\(self.port)", "--log-level", "debug"] + extraArguments,
            logDirectory: directory)
        try await process.waitForTCP(port: self.port)
    }

    /// Runs `dig @127.0.0.1 -p PORT` with terse output and parses it.
    func dig(_ arguments: [String]) throws -> DigResult {
        let result = try Command.run(
            "dig", ["@127.0.0.1", "-p", "\(port)", "+norec", "+time=2", "+tries=1", "+nocmd", "+nostats"] + arguments)
        return DigResult(output: result.stdout)
    }

    func kdig(_ arguments: [String]) throws -> DigResult {
        let result = try Command.run(
            "kdig", ["@127.0.0.1", "-p", "\(port)", "+norec", "+time=2", "+retry=0"] + arguments)
        return DigResult(output: result.stdout)
    }

    deinit { process.stop() }
}

/// The parts of dig/kdig output the tests check.
struct DigResult: CustomStringConvertible {
    let output: String
    var status: String? { capture(#"status: ([A-Z]+)"#) }
    var flags: Set<String> {
        Set((capture(#"[Ff]lags: ([a-z ]*)[;,]"#) ?? "").split(separator: " ").map(String.init))
    }
    var answer: [String] { section("ANSWER") }
    var authority: [String] { section("AUTHORITY") }
    var additional: [String] { section("ADDITIONAL") }
    var description: String { output }

    private func capture(_ pattern: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: output, range: NSRange(output.startIndex..., in: output)),
            let range = Range(match.range(at: 1), in: output)
        else { return nil }
        return String(output[range])
    }

    /// Record lines of a section (dig: ";; ANSWER SECTION:", kdig: ";; ANSWER SECTION:").
    private func section(_ name: String) -> [String] {
        var lines: [String] = []
        var inside = false
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(";; \(name) SECTION:") {
                inside = true
            } else if inside {
                if line.isEmpty || line.hasPrefix(";;") { break }
                lines.append(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " "))
            }
        }
        return lines
    }
}
