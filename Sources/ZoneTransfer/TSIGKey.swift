import DNSEngine
import Crypto
import DNSWire
import Foundation

/// A TSIG MAC algorithm (RFC 8945 6): the HMAC-SHA2 family, named by a domain name on
/// the wire. HMAC-MD5 and HMAC-SHA1 are not offered (RFC 8945 6: SHA-256 is mandatory).
public struct TSIGAlgorithm: Hashable, Sendable, CustomStringConvertible {
    /// The wire name, lowercase (`hmac-sha256.`).
    public let name: Name
    /// The full MAC length in octets.
    public let macLength: Int

    public static let hmacSHA256 = TSIGAlgorithm(name: try! Name("hmac-sha256."), macLength: 32)
    public static let hmacSHA512 = TSIGAlgorithm(name: try! Name("hmac-sha512."), macLength: 64)
    public static let all: [TSIGAlgorithm] = [.hmacSHA256, .hmacSHA512]

    /// The algorithm a key file or a `-y` argument names (`hmac-sha256`, with or without
    /// the trailing dot, any case); nil if not supported.
    public static func named(_ text: String) -> TSIGAlgorithm? {
        guard let name = try? Name(text.hasSuffix(".") ? text : text + ".") else { return nil }
        return all.first { $0.name == name }
    }

    public var description: String { String(name.description.dropLast()) }
}

/// A shared TSIG key: its name (the TSIG record's owner), algorithm and secret.
public struct TSIGKey: Hashable, Sendable {
    /// Lowercase: names compare canonically (RFC 8945 4.3.3).
    public let name: Name
    public let algorithm: TSIGAlgorithm
    public let secret: [UInt8]

    public init(name: Name, algorithm: TSIGAlgorithm, secret: [UInt8]) {
        self.name = name.lowercased
        self.algorithm = algorithm
        self.secret = secret
    }

    /// An HMAC over the digest components fed in order.
    func mac(_ parts: [ArraySlice<UInt8>]) -> [UInt8] {
        let key = SymmetricKey(data: secret)
        switch algorithm.macLength {
        case 64:
            var hmac = HMAC<SHA512>(key: key)
            for part in parts { hmac.update(data: part) }
            return Array(hmac.finalize())
        default:
            var hmac = HMAC<SHA256>(key: key)
            for part in parts { hmac.update(data: part) }
            return Array(hmac.finalize())
        }
    }
}

/// The keys a server knows, by name.
public struct TSIGKeyring: Sendable {
    private var keys: [Name: TSIGKey] = [:]

    public init(_ keys: [TSIGKey] = []) {
        for key in keys { self.keys[key.name] = key }
    }

    public subscript(name: Name) -> TSIGKey? { keys[name.lowercased] }
    public var isEmpty: Bool { keys.isEmpty }
    public var names: [Name] { Array(keys.keys) }
}
