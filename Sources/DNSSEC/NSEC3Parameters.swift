import Crypto
import DNSWire

/// NSEC3 parameters (RFC 5155 3, 4): hash algorithm 1 (SHA-1), the iterations and the
/// salt. The zone onebzd transfers uses `.rfc9276`: no extra iterations, empty salt
/// (RFC 9276 3.1: more iterations cost validators and buy nothing against offline
/// dictionary attacks; a salt only matters across zones, and we re-sign, not re-salt).
/// Other values exist for the RFC 5155 Appendix A test vectors.
public struct NSEC3Parameters: Sendable, Hashable {
    /// Extra iterations (the hash is applied `iterations + 1` times).
    public var iterations: UInt16
    public var salt: [UInt8]

    public init(iterations: UInt16 = 0, salt: [UInt8] = []) {
        self.iterations = iterations
        self.salt = salt
    }

    /// RFC 9276 3.1: iterations 0, empty salt.
    public static let rfc9276 = NSEC3Parameters()

    /// Hash algorithm 1: SHA-1 (RFC 5155 11).
    public static let sha1: UInt8 = 1

    /// RFC 5155 5: IH(salt, x, 0) = H(x || salt), IH(salt, x, k) = H(IH(salt, x, k-1) || salt),
    /// x the canonical (lowercase, uncompressed) wire form of the name.
    public func hash(_ name: Name) -> NSEC3Hash {
        var digest = Array(Insecure.SHA1.hash(data: name.lowercased.wire + salt))
        for _ in 0..<iterations { digest = Array(Insecure.SHA1.hash(data: digest + salt)) }
        return NSEC3Hash(bytes: digest)
    }

    /// `<base32hex(hash)>.<apex>`: the NSEC3 record's owner (RFC 5155 3).
    public func hashedOwner(_ hash: NSEC3Hash, apex: Name) -> Name {
        let label = hash.base32hexLabel
        return Name(uncheckedWire: [UInt8(label.count)] + label + apex.lowercased.wire)
    }

    /// NSEC3PARAM RDATA (RFC 5155 4.2): algorithm, flags 0, iterations, salt length, salt.
    public var nsec3paramRDATA: [UInt8] {
        var out: [UInt8] = [Self.sha1, 0]
        out.append(be16: iterations)
        out.append(UInt8(salt.count))
        out += salt
        return out
    }

    /// NSEC3 RDATA (RFC 5155 3.2): algorithm, flags (opt-out never set here), iterations,
    /// salt, the next hashed owner (raw 20 bytes) and the type bitmap of the owner.
    public func nsec3RDATA(next: NSEC3Hash, types: [RRType]) -> [UInt8] {
        var out: [UInt8] = [Self.sha1, 0]
        out.append(be16: iterations)
        out.append(UInt8(salt.count))
        out += salt
        out.append(20)
        out += next.bytes
        out += TypeBitmap.encode(types)
        return out
    }
}

extension RRType {
    public static let nsec3 = RRType(50)
    public static let nsec3param = RRType(51)
}
