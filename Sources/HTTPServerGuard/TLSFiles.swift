import NIOSSL

/// PEM files for HTTPS on the gateway and the registry: the certificate chain (leaf
/// first) and its key.
public struct TLSFiles: Sendable, Hashable {
    public var certificateChain: String
    public var privateKey: String

    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }

    /// Loads both files; errors name the file that failed.
    public func serverConfiguration() throws(TLSFilesError) -> TLSConfiguration {
        let (certificates, key) = try load()
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
    }

    /// The certificate chain (at least one) and the key, as PEM files hold them.
    public func load() throws(TLSFilesError) -> ([NIOSSLCertificate], NIOSSLPrivateKey) {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(certificateChain)
        } catch {
            throw TLSFilesError(file: certificateChain, problem: "not a PEM certificate chain (\(error))")
        }
        guard !certificates.isEmpty else { throw TLSFilesError(file: certificateChain, problem: "holds no certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
        } catch {
            throw TLSFilesError(file: privateKey, problem: "not a PEM private key (\(error))")
        }
        return (certificates, key)
    }
}

/// A TLS file that could not be used, and why.
public struct TLSFilesError: Error, CustomStringConvertible {
    public let file: String
    public let problem: String

    public var description: String { "TLS file \(file): \(problem)" }
}
