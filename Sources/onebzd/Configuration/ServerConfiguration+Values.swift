import ChainReader
import DNSEngine
import Foundation
import TOMLConfiguration

// MARK: - Values checked as they are read (a value that parses here is typed and never
// parsed again; a bad one stops onebzd naming its key)

extension ServerConfiguration {
    /// `[server] rrl_*`: on unless rrl_responses_per_second = 0 (absent: NSD's 200).
    static func rateLimit(_ t: TableReader) throws(ConfigurationError) -> ResponseRateLimiter.Configuration? {
        let rate = try t.int("rrl_responses_per_second", min: 0) ?? ResponseRateLimiter.Configuration.defaultRate
        guard rate > 0 else {
            for key in ["rrl_slip", "rrl_ipv4_prefix", "rrl_ipv6_prefix", "rrl_exempt"] where t.table[key] != nil {
                throw ConfigurationError(key: t.key(key), "needs rrl_responses_per_second > 0 (RRL is off)")
            }
            return nil
        }
        var rrl = ResponseRateLimiter.Configuration(responsesPerSecond: rate)
        if let list = try t.strings("rrl_exempt") {
            rrl.exempt = try list.enumerated().map { index, text throws(ConfigurationError) in
                guard let prefix = AddressPrefix(text) else {
                    throw ConfigurationError(key: t.key("rrl_exempt[\(index)]"), "\"\(text)\" is not an address or CIDR prefix")
                }
                return prefix
            }
        }
        if let v = try t.int("rrl_slip", min: 0, max: 100) { rrl.slip = v }
        if let v = try t.int("rrl_ipv4_prefix", min: 8, max: 32) { rrl.ipv4PrefixLength = v }
        if let v = try t.int("rrl_ipv6_prefix", min: 16, max: 128) { rrl.ipv6PrefixLength = v }
        return rrl
    }

    /// `[server] cookies = true`, with `cookie_secret` (32 hex digits, shared by every
    /// instance of an anycast fleet, RFC 9018) or a random secret per start.
    static func cookies(_ t: TableReader) throws(ConfigurationError) -> DNSCookies.Configuration? {
        let secretText = try t.string("cookie_secret")
        guard try t.bool("cookies") == true else {
            if secretText != nil { throw ConfigurationError(key: t.key("cookie_secret"), "needs cookies = true") }
            return nil
        }
        guard let secretText else {
            var generator = SystemRandomNumberGenerator()
            return DNSCookies.Configuration(secret: (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        let digits = Array(secretText.utf8)
        let secret =
            digits.count == 32
            ? (0..<16).compactMap { UInt8(String(decoding: digits[(2 * $0)..<(2 * $0 + 2)], as: UTF8.self), radix: 16) }
            : []
        guard secret.count == 16 else {
            throw ConfigurationError(key: t.key("cookie_secret"), "must be 32 hex digits (16 bytes)")
        }
        return DNSCookies.Configuration(secret: secret)
    }

    /// `ecdsap256sha256` (13) or `ed25519` (15), in its canonical spelling.
    package static func algorithm(_ text: String, key: String) throws(ConfigurationError) -> String {
        switch text.lowercased() {
        case "ecdsap256sha256", "13": return "ecdsap256sha256"
        case "ed25519", "15": return "ed25519"
        default: throw ConfigurationError(key: key, "\"\(text)\" is not ecdsap256sha256 or ed25519")
        }
    }

    /// An http(s) URL with a host, or an error naming `key`.
    package static func httpURL(_ url: String, key: String) throws(ConfigurationError) -> String {
        try parsedHTTPURL(url, key: key).absoluteString
    }

    package static func parsedHTTPURL(_ url: String, key: String) throws(ConfigurationError) -> URL {
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), let parsed = URL(string: url),
            let host = parsed.host, !host.isEmpty
        else {
            throw ConfigurationError(key: key, "\"\(url)\" is not an http(s) URL")
        }
        return parsed
    }

    /// A 0x-prefixed 20-byte hex address, or an error naming `key`.
    package static func address(_ text: String, key: String) throws(ConfigurationError) -> EthereumAddress {
        let hex = text.hasPrefix("0x") ? text.dropFirst(2) : Substring(text)
        guard hex.count == 40, hex.allSatisfy(\.isHexDigit), let address = EthereumAddress(hex: hex) else {
            throw ConfigurationError(key: key, "\"\(text)\" is not a 0x-prefixed 20-byte hex address")
        }
        return address
    }
}
