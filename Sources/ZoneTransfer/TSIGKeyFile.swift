import DNSEngine
import DNSWire
import Foundation
import SecretFile

/// A problem in a TSIG key file, with the file and line (`keys.conf:3: unknown
/// algorithm hmac-md5`).
public struct TSIGKeyFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int
    public let reason: String

    public var description: String { "\(file):\(line): \(reason)" }
}

/// BIND's key statement syntax, as `tsig-keygen` writes it and NSD/Knot tools read it:
///
///     key "transfer.1bz" {
///         algorithm hmac-sha256;
///         secret "c2VjcmV0...";
///     };
///
/// Several keys per file; `#`, `//` and `/* */` comments; the name quoted or bare.
public enum TSIGKeyFile {
    /// The shortest secret accepted, in bytes.
    public static let minimumSecretBytes = 16

    /// Reads every key in the file at `path` (refused when other users can read it).
    public static func load(path: String) throws -> [TSIGKey] {
        // A secret others could read is no secret (as OpenSSH refuses such keys).
        if let exposed = SecretFile.exposure(of: path) {
            throw TSIGKeyFileError(file: path, line: 0, reason: exposed.reason)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TSIGKeyFileError(file: path, line: 0, reason: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TSIGKeyFileError(file: path, line: 0, reason: "not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    /// Parses key statements; `file` names the source in errors.
    public static func parse(_ text: String, file: String = "key file") throws(TSIGKeyFileError) -> [TSIGKey] {
        var tokens = try tokenize(text, file: file)[...]
        var keys: [TSIGKey] = []
        var lastLine = 1
        func fail(_ line: Int, _ reason: String) -> TSIGKeyFileError {
            TSIGKeyFileError(file: file, line: line, reason: reason)
        }
        func next(_ what: String, after line: Int) throws(TSIGKeyFileError) -> Token {
            guard let token = tokens.popFirst() else {
                throw fail(lastLine, "unexpected end of file, expected \(what)")
            }
            lastLine = token.line
            return token
        }
        func expect(_ symbol: String, after line: Int) throws(TSIGKeyFileError) {
            let token = try next("'\(symbol)'", after: line)
            guard token.text == symbol, !token.quoted else {
                throw fail(token.line, "expected '\(symbol)', found '\(token.text)'")
            }
        }
        while let keyword = tokens.popFirst() {
            guard keyword.text == "key", !keyword.quoted else {
                throw fail(keyword.line, "expected 'key', found '\(keyword.text)'")
            }
            let nameToken = try next("a key name", after: keyword.line)
            guard let name = try? Name(nameToken.text.hasSuffix(".") ? nameToken.text : nameToken.text + "."),
                !nameToken.text.isEmpty
            else { throw fail(nameToken.line, "'\(nameToken.text)' is not a valid key name") }
            if keys.contains(where: { $0.name == name.lowercased }) {
                throw fail(nameToken.line, "key \(nameToken.text) is defined twice")
            }
            try expect("{", after: nameToken.line)
            var algorithm: TSIGAlgorithm? = nil
            var secret: [UInt8]? = nil
            while true {
                let field = try next("'algorithm', 'secret' or '}'", after: nameToken.line)
                if field.text == "}", !field.quoted { break }
                let value = try next("a value for \(field.text)", after: field.line)
                switch field.text {
                case "algorithm":
                    guard let named = TSIGAlgorithm.named(value.text) else {
                        throw fail(value.line, "unsupported algorithm '\(value.text)' (use hmac-sha256 or hmac-sha512)")
                    }
                    algorithm = named
                case "secret":
                    guard let bytes = Data(base64Encoded: value.text), !bytes.isEmpty else {
                        throw fail(value.line, "the secret of key \(nameToken.text) is not base64")
                    }
                    secret = Array(bytes)
                default:
                    throw fail(field.line, "unknown key field '\(field.text)' (expected algorithm or secret)")
                }
                try expect(";", after: value.line)
            }
            try expect(";", after: nameToken.line)
            guard let algorithm else { throw fail(nameToken.line, "key \(nameToken.text) has no algorithm") }
            guard let secret else { throw fail(nameToken.line, "key \(nameToken.text) has no secret") }
            // RFC 8945 6.1 / RFC 2104 3: a key shorter than the hash is weak; 16 bytes
            // (128 bits) is the floor we accept (tsig-keygen makes 32 for hmac-sha256).
            guard secret.count >= minimumSecretBytes else {
                throw fail(
                    nameToken.line,
                    "the secret of key \(nameToken.text) is \(secret.count) bytes; at least \(minimumSecretBytes) are needed (tsig-keygen makes 32)"
                )
            }
            keys.append(TSIGKey(name: name, algorithm: algorithm, secret: secret))
        }
        return keys
    }

    struct Token {
        var text: String
        var line: Int
        var quoted: Bool
    }

    /// Words, quoted strings and the symbols `{ } ;`, comments skipped.
    static func tokenize(_ text: String, file: String) throws(TSIGKeyFileError) -> [Token] {
        var tokens: [Token] = []
        let scalars = Array(text.unicodeScalars)
        var index = 0
        var line = 1
        while index < scalars.count {
            let character = scalars[index]
            switch character {
            case "\n":
                line += 1
                index += 1
            case " ", "\t", "\r":
                index += 1
            case "#":
                while index < scalars.count, scalars[index] != "\n" { index += 1 }
            case "/" where index + 1 < scalars.count && scalars[index + 1] == "/":
                while index < scalars.count, scalars[index] != "\n" { index += 1 }
            case "/" where index + 1 < scalars.count && scalars[index + 1] == "*":
                let start = line
                index += 2
                while index + 1 < scalars.count, !(scalars[index] == "*" && scalars[index + 1] == "/") {
                    if scalars[index] == "\n" { line += 1 }
                    index += 1
                }
                guard index + 1 < scalars.count else {
                    throw TSIGKeyFileError(file: file, line: start, reason: "unterminated /* comment")
                }
                index += 2
            case "{", "}", ";":
                tokens.append(Token(text: String(character), line: line, quoted: false))
                index += 1
            case "\"":
                let start = line
                index += 1
                var value = String.UnicodeScalarView()
                while index < scalars.count, scalars[index] != "\"" {
                    if scalars[index] == "\n" { line += 1 }
                    value.append(scalars[index])
                    index += 1
                }
                guard index < scalars.count else {
                    throw TSIGKeyFileError(file: file, line: start, reason: "unterminated quoted string")
                }
                index += 1
                tokens.append(Token(text: String(value), line: start, quoted: true))
            default:
                var value = String.UnicodeScalarView()
                while index < scalars.count, !" \t\r\n{};\"#".unicodeScalars.contains(scalars[index]) {
                    value.append(scalars[index])
                    index += 1
                }
                tokens.append(Token(text: String(value), line: line, quoted: false))
            }
        }
        return tokens
    }
}
