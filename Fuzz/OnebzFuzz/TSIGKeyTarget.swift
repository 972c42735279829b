import DNSEngine
import DNSWire
import Foundation
import ZoneTransfer

/// TSIG key files (`TSIGKeyFile.parse`, what `TSIGKeyFile.load` calls after reading the
/// file), BIND `key` statements as tsig-keygen writes them. Invariants:
/// - a rejection is a TSIGKeyFileError with a line inside the text;
/// - accepted keys have distinct names, a supported algorithm and at least
///   `minimumSecretBytes` of secret;
/// - the keys written back in the canonical form (`canonical(_:)`, as tsig-keygen
///   writes them) parse to the same keys, byte for byte.
enum TSIGKeyTarget {
    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let keys: [TSIGKey]
        do throws(TSIGKeyFileError) {
            keys = try TSIGKeyFile.parse(text, file: "fuzz.key")
        } catch {
            let lines = text.unicodeScalars.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
            precondition(error.file == "fuzz.key" && (1...lines).contains(error.line), "error line \(error.line) of \(lines): \(error)")
            return
        }
        precondition(Set(keys.map(\.name)).count == keys.count, "duplicate key names accepted")
        for key in keys {
            precondition(TSIGAlgorithm.all.contains(key.algorithm), "algorithm \(key.algorithm)")
            precondition(key.secret.count >= TSIGKeyFile.minimumSecretBytes, "secret of \(key.secret.count) bytes")
        }
        let written = canonical(keys)
        let again: [TSIGKey]
        do { again = try TSIGKeyFile.parse(written, file: "canonical.key") } catch {
            fatalError("canonical form does not parse: \(error)\n\(written)")
        }
        precondition(again.count == keys.count, "canonical form has \(again.count) keys, not \(keys.count)")
        for (a, b) in zip(keys, again) {
            precondition(a.name.wire == b.name.wire && a.algorithm == b.algorithm && a.secret == b.secret, "round trip changed \(a.name)")
        }
    }

    /// tsig-keygen's layout. Names in presentation form, where `"` would end the quoted
    /// string: written as `\034` instead.
    static func canonical(_ keys: [TSIGKey]) -> String {
        keys.map { key in
            let name = key.name.description.replacingOccurrences(of: "\\\"", with: "\\034")
            return """
                key "\(name)" {
                \talgorithm \(key.algorithm);
                \tsecret "\(Data(key.secret).base64EncodedString())";
                };

                """
        }.joined()
    }
}
