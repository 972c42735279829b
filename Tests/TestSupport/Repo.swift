import Foundation

/// Paths the integration tests need: the repository root and the directory holding
/// the built executables (the same one the test bundle runs from).
public enum Repo {
    /// The repository root, derived from this file's location at compile time.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// The build products directory: tests run from it, so the executables built with
    /// them (`onebzd`, `onebz-registry`, `onebz`) sit beside the test bundle.
    public static let productsDirectory: URL = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }()

    /// Path of a built executable of this package.
    public static func product(_ name: String) -> URL {
        productsDirectory.appendingPathComponent(name)
    }

    /// A fresh scratch directory under `.test-artifacts/` (kept after the run for
    /// inspection of logs; the directory is gitignored).
    public static func scratchDirectory(_ label: String) throws -> URL {
        let dir = root.appendingPathComponent(".test-artifacts")
            .appendingPathComponent("\(label)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
