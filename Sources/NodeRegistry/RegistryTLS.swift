import NIOSSL

/// How the registry's HTTPS certificate is checked (issue 21, finding 7: trust scores and
/// record freshness travel unsigned, so only an authenticated transport keeps an on-path
/// attacker from changing them).
///
/// - `caFile`: trust only the certificates in this PEM file (a private CA, or the
///   registry's self-signed certificate) instead of the system's roots.
/// - `pin`: the server certificate's key must hash to this. With a CA file both must
///   hold; alone, the pin is the authentication (the certificate chain is not checked:
///   the handshake proves the server holds the pinned key), as for a self-signed certificate.
public struct RegistryTLS: Sendable {
    public let caFile: String?
    public let pin: SPKIPin?
    let configuration: TLSConfiguration
    /// Made once here (the pinned client's connections share it), so that every error
    /// shows at start.
    let context: NIOSSLContext

    /// Reads the CA file now: a missing or malformed file is an error naming it.
    public init(caFile: String?, pin: SPKIPin?) throws(RegistryTLSError) {
        self.caFile = caFile
        self.pin = pin
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            let roots: [NIOSSLCertificate]
            do { roots = try NIOSSLCertificate.fromPEMFile(caFile) } catch {
                throw RegistryTLSError(setting: .caFile, "\(caFile): not a readable PEM certificate file (\(error))")
            }
            guard !roots.isEmpty else { throw RegistryTLSError(setting: .caFile, "\(caFile): holds no certificate") }
            configuration.trustRoots = .certificates(roots)
        } else if pin != nil {
            configuration.certificateVerification = .none
        }
        self.configuration = configuration
        do { context = try NIOSSLContext(configuration: configuration) } catch {
            throw RegistryTLSError(setting: caFile == nil ? .pin : .caFile, "cannot set up TLS: \(error)")
        }
    }

    /// From the text of a configuration: nil when neither is given.
    public static func load(caFile: String?, pinBase64: String?) throws(RegistryTLSError) -> RegistryTLS? {
        guard caFile != nil || pinBase64 != nil else { return nil }
        let pin = try pinBase64.map { text throws(RegistryTLSError) in try SPKIPin(base64: text) }
        return try RegistryTLS(caFile: caFile, pin: pin)
    }
}
