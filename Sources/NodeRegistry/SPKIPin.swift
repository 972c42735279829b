import Crypto
import Foundation
import NIOSSL

/// A pinned server key: the SHA-256 of a certificate's DER SubjectPublicKeyInfo, written
/// in base64 as HPKP (RFC 7469 2.4) and `curl --pinnedpubkey sha256//...` write it.
/// Pinning the key rather than the certificate survives renewing the certificate with
/// the same key.
public struct SPKIPin: Sendable, Hashable, CustomStringConvertible {
    public let sha256: [UInt8]

    /// Parses `BASE64` or `sha256//BASE64` (44 base64 characters: 32 bytes).
    public init(base64 text: String) throws(RegistryTLSError) {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.hasPrefix("sha256//") { body = body.dropFirst("sha256//".count) }
        guard let bytes = Data(base64Encoded: String(body)), bytes.count == SHA256.byteCount else {
            throw RegistryTLSError(
                setting: .pin,
                "\"\(text)\" is not the base64 SHA-256 of a SubjectPublicKeyInfo (44 characters, e.g. from "
                    + "openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)")
        }
        sha256 = Array(bytes)
    }

    /// The pin of a DER SubjectPublicKeyInfo.
    public init(spki: [UInt8]) {
        sha256 = Array(SHA256.hash(data: spki))
    }

    /// The pin of `certificate`'s key; nil when its key cannot be read.
    public init?(certificate: NIOSSLCertificate) {
        guard let spki = try? certificate.extractPublicKey().toSPKIBytes() else { return nil }
        self.init(spki: spki)
    }

    public var description: String { "sha256//" + Data(sha256).base64EncodedString() }
}
