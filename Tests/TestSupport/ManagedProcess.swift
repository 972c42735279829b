import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process started by a test (a server: onebzd, the devnet, the registry, NSD).
/// Output goes to log files in a scratch directory; `stop()` sends SIGTERM to this PID
/// only (never by name), then SIGKILL after a grace period. Also stopped on deinit, so
/// a failing test does not leak servers.
public final class ManagedProcess: @unchecked Sendable {
    // @unchecked: `process` is only mutated in init and read afterwards; Foundation's
    // Process is itself thread-safe for terminate/isRunning.
    public let process: Process
    public let stdoutURL: URL
    public let stderrURL: URL
    public let name: String

    public init(
        name: String, executable: URL, arguments: [String], logDirectory: URL,
        environment: [String: String]? = nil, currentDirectory: URL? = nil
    ) throws {
        self.name = name
        self.process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        stdoutURL = logDirectory.appendingPathComponent("\(name).stdout.log")
        stderrURL = logDirectory.appendingPathComponent("\(name).stderr.log")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        try Self.withSignalsUnblocked { try process.run() }
    }

    /// Runs `body` (which spawns a child) with this thread's signal mask emptied.
    ///
    /// A child inherits the signal mask of the thread that spawns it, and Foundation's
    /// `Process` spawns from the calling thread without resetting it. Async tests run on
    /// Dispatch's worker threads, which block nearly every signal: the devnet and the
    /// fault proxies (Python, which never unblocks) then ignored SIGTERM and each `stop()`
    /// waited out its grace period before SIGKILL, 5 s per process, 30 s per fault stack.
    static func withSignalsUnblocked<T>(_ body: () throws -> T) rethrows -> T {
        var empty = sigset_t()
        var saved = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        return try body()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// The server's stderr so far (for failure messages).
    public func stderr() -> String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    public func stdout() -> String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }

    /// Waits until `ready()` returns true, the process exits, or the timeout passes.
    public func waitUntil(
        timeout: Duration = .seconds(20), _ ready: () async throws -> Bool
    ) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if !process.isRunning {
                throw TestProcessError(
                    "\(name) exited with status \(process.terminationStatus) before it was ready:\n\(stderr())")
            }
            if (try? await ready()) == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestProcessError("\(name) not ready after \(timeout):\n\(stderr())")
    }

    /// Waits until the process accepts TCP connections on 127.0.0.1:port.
    public func waitForTCP(port: Int, timeout: Duration = .seconds(20)) async throws {
        try await waitUntil(timeout: timeout) { FreePort.isAcceptingTCP(port: port) }
    }

    /// Sends `signal` (SIGTERM by default) and waits for the exit; SIGKILL after `grace`.
    /// Returns the termination status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, grace: Duration = .seconds(5)) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(pid, signal)
        let deadline = ContinuousClock.now.advanced(by: grace)
        while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit { stop(signal: SIGKILL, grace: .seconds(2)) }
}

public struct TestProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
