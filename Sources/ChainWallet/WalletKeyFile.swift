import ChainReader
import Foundation

/// A wallet key file as operators have them: either the raw secp256k1 key (64 hex
/// digits, optional `0x`, surrounding whitespace ignored; what the devnet writes and
/// `cast wallet new` prints) or a keystore v3 JSON that needs a password.
public enum WalletKeyFile: Sendable {
    case raw(WalletKey)
    case keystore(Keystore)

    public init(path: String) throws(WalletError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WalletError(.invalidKey, "cannot read the wallet key file \(path)")
        }
        try self.init(contents: data, path: path)
    }

    public init(contents data: Data, path: String) throws(WalletError) {
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("{") {
            do { self = .keystore(try Keystore(json: data)) } catch {
                throw WalletError(.invalidKeystore, "\(path): not a usable keystore v3 file: \(error.message)")
            }
            return
        }
        var hex = Substring(text)
        if hex.hasPrefix("0x") || hex.hasPrefix("0X") { hex = hex.dropFirst(2) }
        guard hex.count == 64, let bytes = Hex.decode(hex) else {
            throw WalletError(
                .invalidKey,
                "\(path): neither a raw private key (64 hex digits) nor a keystore v3 JSON file")
        }
        do { self = .raw(try WalletKey(secret: bytes)) } catch {
            throw WalletError(.invalidKey, "\(path): \(error.message)")
        }
    }

    /// True when `key(password:)` needs a password.
    public var needsPassword: Bool { if case .keystore = self { true } else { false } }

    public func key(password: () throws -> String) throws -> WalletKey {
        switch self {
        case .raw(let key): return key
        case .keystore(let store): return try store.decrypt(password: try password())
        }
    }
}
