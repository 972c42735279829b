import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Passwords come from an environment variable, a file, or a terminal prompt; never
/// from the command line (it ends up in shell history and `ps`).
enum Secrets {
    /// The password from `env`, else from `file` (first line), else asked on the
    /// terminal; a clear error when none is possible.
    static func password(env: String, file: String?, fileFlag: String, prompt: String) throws -> String {
        if let value = ProcessInfo.processInfo.environment[env] { return value }
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIError("cannot read the password file \(file)")
            }
            let text = String(decoding: data, as: UTF8.self)
            return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        guard isatty(STDIN_FILENO) == 1, let raw = getpass(prompt) else {
            throw CLIError(
                "a password is needed and there is no terminal to ask on: set \(env) or pass \(fileFlag) FILE")
        }
        return String(cString: raw)
    }

    /// Asked twice on the terminal (a new password); the same sources as `password` otherwise.
    static func newPassword(env: String, file: String?, fileFlag: String) throws -> String {
        if ProcessInfo.processInfo.environment[env] != nil || file != nil {
            return try password(env: env, file: file, fileFlag: fileFlag, prompt: "")
        }
        let first = try password(env: env, file: nil, fileFlag: fileFlag, prompt: "New key password: ")
        let second = try password(env: env, file: nil, fileFlag: fileFlag, prompt: "Repeat the password: ")
        guard first == second else { throw CLIError("the two passwords differ; nothing was written") }
        return first
    }
}

/// Progress and notes go to stderr so that stdout stays the result.
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
