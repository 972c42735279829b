import Foundation
import TOMLConfiguration
import Testing

@testable import onebz_web

/// The pure rules of onebz-web: which node addresses it refuses, how it reads Host, what
/// its access log escapes, which configuration it rejects (naming the key).
@Suite struct GatewayRulesTests {
    @Test(arguments: [
        ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("172.20.0.1", "private"), ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"), ("224.0.0.1", "multicast"), ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "carrier-grade"), ("::1", "loopback"), ("::", "unspecified"), ("fe80::1", "link-local"),
        ("fd00::1", "unique local"), ("ff02::1", "multicast"), ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
    ])
    func refusedByDefault(address: String, kind: String) {
        let policy = AddressPolicy(allowed: [], own: [])
        let refusal = policy.refusal(address)
        #expect(refusal?.contains(kind) == true, "\(address): \(refusal ?? "allowed")")
    }

    @Test func publicAddressesPassAndAllowancesOpenOnlyTheirNetwork() {
        let policy = AddressPolicy(allowed: [NetworkPrefix("127.0.0.0/8")!], own: [NetworkPrefix.parse("203.0.113.9")!])
        #expect(policy.refusal("93.184.216.34") == nil)
        #expect(policy.refusal("2001:db8::1") == nil)
        #expect(policy.refusal("127.0.0.2") == nil)
        #expect(policy.refusal("::1") != nil, "only the IPv4 loopback network was allowed")
        #expect(policy.refusal("10.0.0.1") != nil)
        #expect(policy.refusal("203.0.113.9") == "the gateway's own address")
        #expect(policy.refusal("not an address") != nil)
    }

    @Test func prefixesParseAndMatchBitwise() {
        #expect(NetworkPrefix("172.16.0.0/12")!.contains(NetworkPrefix.parse("172.31.255.255")!))
        #expect(!NetworkPrefix("172.16.0.0/12")!.contains(NetworkPrefix.parse("172.32.0.0")!))
        #expect(NetworkPrefix("fc00::/7")!.contains(NetworkPrefix.parse("fdff::1")!))
        #expect(NetworkPrefix("10.0.0.0/33") == nil && NetworkPrefix("x/8") == nil && NetworkPrefix("::/129") == nil)
        #expect(NetworkPrefix("0.0.0.0/0")!.contains(NetworkPrefix.parse("8.8.8.8")!))
    }

    @Test func hostIsLowerCasedWithoutPortOrTrailingDot() {
        #expect(GatewayResponder.host("Shashi.1BZ.GW.test:8443") == "shashi.1bz.gw.test")
        #expect(GatewayResponder.host("shashi.1bz.gw.test.") == "shashi.1bz.gw.test")
        #expect(GatewayResponder.host("[::1]:80") == "[::1]:80", "an address literal is never under the domain")
        // X-Forwarded-Host: the browser's Host with its port, nothing else after the colon.
        #expect(GatewayResponder.forwardedHost("Shashi.1BZ.gw.test:8443") == "shashi.1bz.gw.test:8443")
        #expect(GatewayResponder.forwardedHost("shashi.1bz.gw.test") == "shashi.1bz.gw.test")
        #expect(GatewayResponder.forwardedHost("shashi.1bz.gw.test:84x3") == "shashi.1bz.gw.test")
        #expect(GatewayResponder.forwardedHost("shashi.1bz.gw.test:") == "shashi.1bz.gw.test")
        #expect(GatewayResponder.forwardedHost("shashi.1bz.gw.test:١٢") == "shashi.1bz.gw.test", "ASCII digits only")
    }

    @Test func accessLogEscapesWhatWouldForgeALine() {
        #expect(AccessLog.quote("a\"b\\c\nd") == "a\\\"b\\\\c\\x0ad")
        #expect(AccessLog.timestamp().range(of: #"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$"#, options: .regularExpression) != nil)
    }

    @Test(arguments: [
        ("listen = \"localhost:80\"\n", "listen"), ("domain = \"x\"\n", "domain"), ("resolver = \"127.0.0.1:53\"\n", "resolver"),
        ("upstream_timeout = \"soon\"\n", "upstream_timeout"), ("max_body_bytes = -1\n", "max_body_bytes"),
        ("tls_cert = \"a.pem\"\n", "tls_key"), ("allow_networks = [\"10.0.0.0/40\"]\n", "allow_networks[0]"),
        ("colour = \"blue\"\n", "colour"), ("allow_loopback_nodes = \"yes\"\n", "allow_loopback_nodes"),
    ])
    func badConfigurationNamesTheKey(text: String, key: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(UUID().uuidString).toml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        var configuration = WebConfiguration()
        #expect(throws: ConfigurationError.self) { try configuration.read(file: file.path) }
        do { try configuration.read(file: file.path) } catch { #expect(error.key == key, "\(error)") }
    }

    @Test func goodConfigurationIsRead() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(UUID().uuidString).toml")
        try """
            listen = "[::1]:8443"
            domain = "1BZ.Example.NET."
            resolver = "127.0.0.1@5353"
            trust_anchor = "/etc/onebz/1bz.ds"
            allow_loopback_nodes = true
            upstream_timeout = 2
            connect_timeout = "500ms"
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        var configuration = WebConfiguration()
        try configuration.read(file: file.path)
        #expect(configuration.listenHost == "::1" && configuration.listenPort == 8443)
        #expect(configuration.domain == "1bz.example.net")
        #expect(configuration.upstreamTimeout == .seconds(2) && configuration.connectTimeout == .milliseconds(500))
        #expect(configuration.allowedNetworks.count == 2)
    }
}
