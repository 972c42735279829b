import DNSEngine
import TOMLConfiguration
import Testing

@testable import onebzd

@Suite("ServerConfiguration")
struct ServerConfigurationTests {
    @Test func fullFileParses() throws {
        let config = try ServerConfiguration(
            toml: """
                [server]
                listen = ["127.0.0.1:5353", "[::1]:5353"]
                zone = "zones/1bz.zone"
                http = "127.0.0.1:8053"
                identity = "ns1.1bz"
                tcp_idle_timeout = "500ms"

                [chain]
                rpc_urls = ["http://127.0.0.1:8545", "https://polygon.example/rpc"]
                contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
                deploy_block = 12
                confirmations = 2
                poll_interval = "1s"

                [registry]
                url = "http://127.0.0.1:8080"

                [cache]
                max_entries = 1000
                max_stale = "1d"
                miss_timeout = "750ms"

                [ttl]
                positive = 60
                """)
        #expect(config.server.listen == [HostPort(host: "127.0.0.1", port: 5353), HostPort(host: "::1", port: 5353)])
        #expect(config.server.http == HostPort(host: "127.0.0.1", port: 8053))
        #expect(config.server.tcpIdleTimeout == .milliseconds(500))
        #expect(config.chain?.rpcURLs.count == 2)
        #expect(config.chain?.contract.hex == "0x5fbdb2315678afecb367f032d93f642f64180aa3")
        #expect(config.chain?.deployBlock == 12)
        #expect(config.chain?.confirmations == 2)
        #expect(config.chain?.pollInterval == .seconds(1))
        #expect(config.registry?.url == "http://127.0.0.1:8080")
        #expect(config.cache.maxEntries == 1000)
        #expect(config.cache.maxStale == .seconds(86_400))
        #expect(config.cache.missTimeout == .milliseconds(750))
        #expect(config.ttl.positive == 60)
    }

    @Test func proofModeKeys() throws {
        let base = "[chain]\nrpc_urls = [\"http://127.0.0.1:8545\", \"http://127.0.0.1:8546\"]\ncontract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\n"
        let call = try ServerConfiguration(toml: base).chain
        #expect(call?.verify == .call && call?.quorum == nil && call?.storageLayout == nil)
        let proof = try ServerConfiguration(toml: base + "verify = \"proof\"\nquorum = 2\nstorage_layout = \"solidity\"").chain
        #expect(proof?.verify == .proof && proof?.quorum == 2 && proof?.storageLayout == .solidity)
    }

    @Test func emptyFileGivesDefaultsAndNoChain() throws {
        let config = try ServerConfiguration(toml: "")
        #expect(config == ServerConfiguration())
        #expect(config.chain == nil)
    }

    @Test(arguments: [
        ("127.0.0.1:53", "127.0.0.1", 53), ("[::1]:5353", "::1", 5353), ("localhost:8053", "localhost", 8053),
    ])
    func hostPortParses(text: String, host: String, port: Int) throws {
        #expect(try HostPort(parsing: text) == HostPort(host: host, port: port))
    }

    @Test func serialMinIntervalIsADurationOneSecondByDefault() throws {
        #expect(try ServerConfiguration(toml: "").zone.serialMinInterval == .seconds(1))
        #expect(try ServerConfiguration(toml: "[zone]\nserial_min_interval = \"500ms\"").zone.serialMinInterval == .milliseconds(500))
        #expect(try ServerConfiguration(toml: "[zone]\nserial_min_interval = 0").zone.serialMinInterval == .zero)
    }

    @Test func dnssecKeysAndOffByDefault() throws {
        #expect(try ServerConfiguration(toml: "").dnssec.enabled == false)
        let on = try ServerConfiguration(
            toml: """
                [dnssec]
                enabled = true
                key_dir = "/var/lib/onebzd/keys"
                algorithm = "ed25519"
                signature_validity = "14d"
                dynamic_signature_validity = "1d"
                refresh = "6h"
                check_interval = "30s"
                """)
        #expect(on.dnssec.enabled && on.dnssec.keyDir == "/var/lib/onebzd/keys" && on.dnssec.algorithm == "ed25519")
        #expect(on.dnssec.signatureValidity == .seconds(14 * 86_400))
        #expect(on.dnssec.dynamicSignatureValidity == .seconds(86_400))
        #expect(on.dnssec.refresh == .seconds(6 * 3600) && on.dnssec.checkInterval == .seconds(30))
    }

    /// On by default at NSD's 200/s with loopback exempt (issue 21, finding 5); 0 turns
    /// it off, and then the other rrl_ keys are an error.
    @Test func rateLimitKeysAndOnByDefault() throws {
        for toml in ["", "[server]\n"] {
            let defaults = try #require(try ServerConfiguration(toml: toml).server.rateLimit)
            #expect(defaults.responsesPerSecond == 200 && defaults.slip == 2)
            #expect(defaults.exempt == [AddressPrefix("127.0.0.0/8")!, AddressPrefix("::1")!])
        }
        #expect(try ServerConfiguration(toml: "[server]\nrrl_responses_per_second = 0\n").server.rateLimit == nil)
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration(toml: "[server]\nrrl_responses_per_second = 0\nrrl_slip = 2\n")
        }
        let exempt = try ServerConfiguration(toml: "[server]\nrrl_exempt = [\"10.0.0.0/8\", \"::ffff:192.0.2.0/120\"]\n")
        #expect(exempt.server.rateLimit?.exempt == [AddressPrefix("10.0.0.0/8")!, AddressPrefix("192.0.2.0/24")!])
        do {
            _ = try ServerConfiguration(toml: "[server]\nrrl_exempt = [\"10.0.0.0/8\", \"nonsense\"]\n")
            Issue.record("a bad rrl_exempt entry was accepted")
        } catch { #expect(error.key == "server.rrl_exempt[1]", "\(error)") }
        let on = try ServerConfiguration(
            toml: "[server]\nrrl_responses_per_second = 20\nrrl_slip = 3\nrrl_ipv4_prefix = 32\nrrl_ipv6_prefix = 64\n")
        #expect(on.server.rateLimit?.responsesPerSecond == 20)
        #expect(on.server.rateLimit?.slip == 3 && on.server.rateLimit?.ipv4PrefixLength == 32)
        #expect(on.server.rateLimit?.ipv6PrefixLength == 64)
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration(toml: "[server]\nrrl_responses_per_second = 5\nrrl_ipv4_prefix = 40\n")
        }
    }

    @Test func cookieKeysAndOffByDefault() throws {
        #expect(try ServerConfiguration(toml: "[server]\n").server.cookies == nil)
        let on = try ServerConfiguration(toml: "[server]\ncookies = true\ncookie_secret = \"000102030405060708090a0b0c0d0e0f\"\n")
        #expect(on.server.cookies?.secret == Array(0..<16))
        #expect(try ServerConfiguration(toml: "[server]\ncookies = true\n").server.cookies?.secret.count == 16)
        #expect(throws: ConfigurationError.self) { try ServerConfiguration(toml: "[server]\ncookies = true\ncookie_secret = \"xyz\"\n") }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration(toml: "[server]\ncookie_secret = \"000102030405060708090a0b0c0d0e0f\"\n") }
    }
}
