import Foundation

/// TSIG key files for the tests, in BIND's format (what onebzd, dig -k and
/// scripts/lib's `tsig_read` read), mode 0600 (onebzd refuses a key file open to others).
enum TSIGKeyFileWriter {
    static func write(_ keys: [(name: String, secret: String)], to path: String) throws {
        try keys.map { "key \"\($0.name)\" { algorithm hmac-sha256; secret \"\($0.secret)\"; };\n" }.joined()
            .write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }
}
