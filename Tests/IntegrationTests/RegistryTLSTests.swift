import Foundation
import Testing
import TestSupport

/// onebzd reaching the registry over HTTPS (issue 21, finding 7): with the registry's
/// certificate trusted through `ca_file` or its key pinned, names resolve as over HTTP;
/// with another certificate or pin onebzd gets no registry data at all (never NXDOMAIN
/// for a registered name) and its log says why.
@Suite(.serialized) struct RegistryTLSTests {
    @Test(arguments: ["ca_file", "pin_sha256"])
    func trustedRegistryAnswersAddresses(setting: String) async throws {
        let directory = try Repo.scratchDirectory("tls-ok-\(setting)")
        let certificate = try TestCertificate.selfSigned(in: directory, name: "registry")
        let value = setting == "ca_file" ? certificate.certificatePath : certificate.pinSHA256
        let stack = try await DynamicStack(
            label: "tls-ok-\(setting)", registryTLS: certificate, registryConfig: "\(setting) = \"\(value)\"")

        let a = try stack.dig(["shashi.1bz", "A"])
        #expect(a.status == "NOERROR" && Set(a.rdata("A")) == ["192.0.2.10", "192.0.2.11"], "\(a)")
        #expect(try stack.dig(["shashi.1bz", "TXT"]).txt["trust"] != nil)
        #expect(!stack.onebzd.process.stderr().contains("changed in transit"))
    }

    @Test(arguments: ["ca_file", "pin_sha256"])
    func untrustedRegistryGivesNoRegistryData(setting: String) async throws {
        let directory = try Repo.scratchDirectory("tls-bad-\(setting)")
        let certificate = try TestCertificate.selfSigned(in: directory, name: "registry")
        let impostor = try TestCertificate.selfSigned(in: directory, name: "other")
        let value = setting == "ca_file" ? impostor.certificatePath : impostor.pinSHA256
        let stack = try await DynamicStack(
            label: "tls-bad-\(setting)", registryTLS: certificate, registryConfig: "\(setting) = \"\(value)\"",
            waitForReady: false)
        let log = { stack.onebzd.process.stderr() }
        try await stack.onebzd.process.waitUntil(timeout: .seconds(30)) {
            log().contains("registry change feed unavailable")
        }
        let failure = setting == "ca_file" ? "CERTIFICATE_VERIFY_FAILED" : "is not the pinned sha256//\(impostor.pinSHA256)"
        #expect(log().contains(failure), "\(log().suffix(2000))")

        // A registered name: never NXDOMAIN, and no address from a registry we cannot authenticate.
        let a = try stack.dig(["shashi.1bz", "A"])
        #expect(a.status == "SERVFAIL" && a.answer.isEmpty, "\(a)")
    }
}
