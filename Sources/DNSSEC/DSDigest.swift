import Crypto
import DNSWire

/// DS records (RFC 4034 5.1.4, digest type 2 = SHA-256, RFC 4509).
public enum DSDigest {
    /// DS RDATA: key tag, algorithm, digest type 2, SHA-256(owner | DNSKEY RDATA).
    public static func rdata(owner: Name, key: SigningKey) -> [UInt8] {
        let digest = SHA256.hash(data: owner.lowercased.wire + key.dnskeyRDATA)
        var out: [UInt8] = []
        out.append(be16: key.keyTag)
        out.append(key.algorithm.rawValue)
        out.append(2)
        out += Array(digest)
        return out
    }

    /// `1bz. 3600 IN DS <tag> <alg> 2 <HEX>`: presentation format with class.
    public static func presentation(owner: Name, key: SigningKey, ttl: UInt32 = 3600) -> String {
        let digest = Array(rdata(owner: owner, key: key).dropFirst(4))
        let hex = digest.map { String($0, radix: 16, uppercase: true).leftPadded(2) }.joined()
        return "\(owner.lowercased) \(ttl) IN DS \(key.keyTag) \(key.algorithm.rawValue) 2 \(hex)"
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
