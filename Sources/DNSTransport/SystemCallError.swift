#if canImport(Glibc)
import Glibc
#endif

/// A failed system call (socket setup, thread creation): what was called and errno.
struct SystemCallError: Error, CustomStringConvertible {
    let call: String
    let code: Int32
    var description: String { "\(call): \(String(cString: strerror(code)))" }
}
