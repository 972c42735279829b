import DNSSEC
import DNSWire

/// BIND key files (`BINDKeyFile(privateText:publicText:)`, what `BINDKeyFile(path:)`
/// calls after reading `K<zone>+<alg>+<tag>.private` and `.key`). The input is the
/// `.private` text, a NUL byte, then the `.key` text (Fuzz/seeds/bind-key: ldns-keygen
/// and dnssec-keygen pairs). Invariants:
/// - a parsed key's public key belongs to its private key (SigningKey derives it again);
/// - the files written back (`privateFileText`, `publicFileText`) parse to the same key,
///   zone and timing metadata;
/// - `parseTimestamp(timestamp(t)) == t` for the first 4 input bytes as t.
enum BINDKeyTarget {
    static func run(_ bytes: [UInt8]) {
        if bytes.count >= 4 {
            let t = bytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            precondition(BINDKeyFile.parseTimestamp(BINDKeyFile.timestamp(t)) == t, "timestamp \(t) does not round-trip")
        }
        let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        let privateText = String(decoding: parts[0], as: UTF8.self)
        let publicText = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : ""
        for line in privateText.split(whereSeparator: \.isNewline) {
            if let colon = line.firstIndex(of: ":") {
                _ = BINDKeyFile.parseTimestamp(String(line[line.index(after: colon)...].drop { $0 == " " }))
            }
        }
        guard let file = try? BINDKeyFile(privateText: privateText, publicText: publicText) else { return }

        let derived: SigningKey
        do { derived = try SigningKey(algorithm: file.key.algorithm, flags: file.key.flags, privateKey: file.key.privateKeyBytes) } catch {
            fatalError("the parsed private key does not load again: \(error)")
        }
        precondition(derived.publicKey == file.key.publicKey, "public key does not belong to the private key")

        let again: BINDKeyFile
        do { again = try BINDKeyFile(privateText: file.privateFileText, publicText: file.publicFileText) } catch {
            fatalError("written files do not parse: \(error)\n\(file.privateFileText)\n\(file.publicFileText)")
        }
        precondition(again.zone.wire == file.zone.wire, "zone \(file.zone) came back as \(again.zone)")
        precondition(
            again.key.algorithm == file.key.algorithm && again.key.flags == file.key.flags
                && again.key.publicKey == file.key.publicKey && again.key.privateKeyBytes == file.key.privateKeyBytes,
            "key changed in the round trip")
        precondition(
            again.created == file.created && again.publish == file.publish && again.activate == file.activate
                && again.inactive == file.inactive && again.delete == file.delete,
            "timing metadata changed in the round trip")
    }
}
