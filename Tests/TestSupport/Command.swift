import Foundation

/// Runs a command-line tool to completion (dig, kdig, drill, curl, python) and returns
/// its exit status and output. Tools are looked up on PATH.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

public enum Command {
    @discardableResult
    public static func run(
        _ tool: String, _ arguments: [String], environment: [String: String]? = nil,
        input: Data? = nil
    ) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe()
        // stderr to a file, not a pipe: reading stdout to its end first would block a tool
        // whose stderr fills a pipe (64 KiB of log lines) before it exits (a deadlock).
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("command-stderr-\(UUID())")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let err = try FileHandle(forWritingTo: errURL)
        defer { try? err.close() }
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        // Read stdout before waiting so a chatty tool cannot block on a full pipe.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        return CommandResult(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Async wrapper so tests that issue many queries do not block the cooperative pool.
    public static func runAsync(
        _ tool: String, _ arguments: [String], environment: [String: String]? = nil
    ) async throws -> CommandResult {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try run(tool, arguments, environment: environment) })
            }
        }
    }
}
