import HTTPGateway
import HTTPServerGuard
import Logging
import NIOPosix
import Testing

/// HTTPS set-up errors name the file that could not be used.
@Suite struct TLSFilesTests {
    @Test func missingCertificateIsNamed() throws {
        let gateway = GatewayFixture().gateway
        let files = TLSFiles(certificateChain: "/nonexistent/cert.pem", privateKey: "/nonexistent/key.pem")
        #expect {
            _ = try gateway.application(
                host: "127.0.0.1", port: 0, tls: files, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                logger: Logger(label: "tls-test"))
        } throws: { error in
            (error as? TLSFilesError)?.file == "/nonexistent/cert.pem"
        }
    }
}
