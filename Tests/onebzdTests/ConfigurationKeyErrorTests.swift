import TOMLConfiguration
import Testing

@testable import onebzd

/// Every bad value in onebzd's configuration file stops it with an error that names the
/// key (`invalid config key transfer.allow[0].key: ...`): one check over the cases of
/// each section.
@Suite("A bad configuration value names its key")
struct ConfigurationKeyErrorTests {
    /// `[server]`, `[chain]`, `[registry]`, `[cache]`, `[ttl]`, `[dnssec]`, `[zone]` and the file itself.
    static let server: [(toml: String, key: String)] = [
        ("[server]\nlisten = [\"127.0.0.1\"]", "server.listen[0]"),
        ("[server]\nlisten = []", "server.listen"),
        ("[server]\nlisten = [\"::1:53\"]", "server.listen[0]"),
        ("[server]\nlistne = [\"127.0.0.1:53\"]", "server.listne"),
        ("[server]\ntcp_max_connections = 0", "server.tcp_max_connections"),
        ("[server]\ntcp_idle_timeout = \"soon\"", "server.tcp_idle_timeout"),
        ("[chain]\ncontract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"", "chain.rpc_urls"),
        ("[chain]\nrpc_urls = [\"http://127.0.0.1:8545\", \"ftp://x\"]\ncontract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"", "chain.rpc_urls[1]"),
        ("[chain]\nrpc_urls = [\"http://127.0.0.1:8545\"]\ncontract = \"0x1234\"", "chain.contract"),
        ("[chain]\nrpc_urls = [\"http://127.0.0.1:8545\"]", "chain.contract"),
        ("[chain]\nrpc_urls = [\"http://127.0.0.1:8545\", \"http://127.0.0.1:8546\"]\ncontract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nverify = \"trust\"", "chain.verify"),
        ("[chain]\nrpc_urls = [\"http://127.0.0.1:8545\", \"http://127.0.0.1:8546\"]\ncontract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nverify = \"proof\"", "chain.storage_layout"),
        ("[chain]\nrpc_urls = [\"http://127.0.0.1:8545\", \"http://127.0.0.1:8546\"]\ncontract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nverify = \"proof\"\nstorage_layout = \"rust\"", "chain.storage_layout"),
        ("[chain]\nrpc_urls = [\"http://127.0.0.1:8545\", \"http://127.0.0.1:8546\"]\ncontract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nquorum = 3", "chain.quorum"),
        ("[chain]\nrpc_urls = [\"http://127.0.0.1:8545\", \"http://127.0.0.1:8546\"]\ncontract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nquorum = 0", "chain.quorum"),
        ("[registry]\npoll_interval = 1", "registry.url"),
        ("[cache]\nmax_entries = \"many\"", "cache.max_entries"),
        ("[cache]\nmiss_timeout = 0", "cache.miss_timeout"),
        ("[ttl]\npositive = -1", "ttl.positive"),
        ("chain = 3", "chain"),
        ("[server\n", "(file)"),
        ("[dnssec]\nalgorithm = \"rsasha1\"", "dnssec.algorithm"),
        ("[dnssec]\nkey_dir = \"\"", "dnssec.key_dir"),
        ("[dnssec]\nsignature_validity = \"1h\"", "dnssec.signature_validity"),
        ("[dnssec]\nrefresh = \"3d\"\ndynamic_signature_validity = \"2d\"", "dnssec.refresh"),
        ("[dnssec]\nenable = true", "dnssec.enable"),
        ("[zone]\nserial_min_interval = \"soon\"", "zone.serial_min_interval"),
        ("[zone]\nserial_min_interval = -1", "zone.serial_min_interval"),
        ("[zone]\nserial_min_interval = \"2h\"", "zone.serial_min_interval"),
    ]

    /// `[transfer]`: the ACL, NOTIFY targets, retry and journal limits.
    static let transfer: [(toml: String, key: String)] = [
        ("[[transfer.allow]]\naddress = \"10.0.0.0/8\"", "transfer.allow[0].key"),
        ("[[transfer.allow]]\nkey = \"k\"", "transfer.allow[0].address"),
        ("[[transfer.allow]]\naddress = \"10.0.0.0/33\"\nkey = \"k\"", "transfer.allow[0].address"),
        ("[[transfer.allow]]\naddress = \"10.0.0.0/8\"\nkey = \"k\"\nkeys = 1", "transfer.allow[0].keys"),
        ("[[transfer.notify]]\naddress = \"10.0.0.1\"", "transfer.notify[0].address"),
        ("[transfer]\nallow = \"10.0.0.0/8\"", "transfer.allow"),
        ("[transfer]\nnotify_retry = \"0s\"", "transfer.notify_retry"),
        ("[transfer]\nnotify_retry = \"5s\"\nnotify_max_retry = \"1s\"", "transfer.notify_max_retry"),
        ("[transfer]\njournal_max_versions = -1", "transfer.journal_max_versions"),
        ("[transfer]\nallowed = []", "transfer.allowed"),
    ]

    /// `[dot]`, and the transfer ACL's DoT keys.
    static let dot: [(toml: String, key: String)] = [
        ("[dot]\ncert_file = \"c\"\nkey_file = \"k\"", "dot.listen"),
        ("[dot]\nlisten = \"127.0.0.1:853\"\nkey_file = \"k\"", "dot.cert_file"),
        ("[dot]\nlisten = \"127.0.0.1:853\"\ncert_file = \"c\"", "dot.key_file"),
        ("[dot]\nlisten = \"127.0.0.1:99999\"\ncert_file = \"c\"\nkey_file = \"k\"", "dot.listen[0]"),
        ("[dot]\nlisten = \"127.0.0.1:853\"\ncert_file = \"c\"\nkey_file = \"k\"\nhandshake_timeout = \"0s\"", "dot.handshake_timeout"),
        ("[dot]\nlisten = \"127.0.0.1:853\"\ncert_file = \"c\"\nkey_file = \"k\"\nmax_handshakes = 0", "dot.max_handshakes"),
        ("[dot]\nlisten = \"127.0.0.1:853\"\ncert_file = \"c\"\nkey_file = \"k\"\nport = 853", "dot.port"),
        ("[[transfer.allow]]\naddress = \"::1\"\nkey = \"\"\ntransport = \"quic\"", "transfer.allow[0].transport"),
        ("[[transfer.allow]]\naddress = \"::1\"\nkey = \"\"\nclient_spki_sha256 = \"abc\"", "transfer.allow[0].client_spki_sha256"),
    ]

    /// `[[zones]]`: the zones served beside the main one.
    static let zones: [(toml: String, key: String)] = [
        ("[[zones]]\nfile = \"x\"", "zones[0].origin"),
        ("[[zones]]\norigin = \"a.\"", "zones[0].file"),
        ("[[zones]]\norigin = \"a.\"\nfile = \"x\"\nbogus = 1", "zones[0].bogus"),
        ("[[zones]]\norigin = \"a.\"\nfile = \"x\"\n[[zones]]\norigin = \"A.\"\nfile = \"y\"", "zones[1].origin"),
        ("[[zones]]\norigin = \"a.\"\nfile = \"x\"\nmax_challenge_records = 0", "zones[0].max_challenge_records"),
        ("zones = 1", "zones"),
    ]

    /// Lines after a valid `[chain]` (`ChainProfileConfigurationTests.base`): the network profile keys.
    static let chain: [(toml: String, key: String)] = [
        ("network = \"matic\"", "chain.network"), ("follow = \"safe\"", "chain.follow"),
        ("requests_per_second = -1", "chain.requests_per_second"), ("chain_id = 0", "chain.chain_id"),
    ]

    /// `rpc_urls` entries with their own budget (`ChainProfileConfigurationTests.endpoints`).
    static let endpoints: [(toml: String, key: String)] = [
        (#"{ url = "http://a.example", requests_per_second = -1 }"#, "chain.rpc_urls[0].requests_per_second"),
        (#""http://a.example", { url = "http://b.example", requests_per_second = "fast" }"#, "chain.rpc_urls[1].requests_per_second"),
        (#"{ url = "http://a.example", rps = 5 }"#, "chain.rpc_urls[0].rps"),
        (#"{ requests_per_second = 5 }"#, "chain.rpc_urls[0].url"),
        (#"{ url = "ftp://a.example" }"#, "chain.rpc_urls[0].url"),
        ("5", "chain.rpc_urls[0]"),
    ]

    /// Lines under `[registry]`: its TLS keys.
    static let registry: [(toml: String, key: String)] = [
        ("url = \"https://r.example\"\npin_sha256 = \"abc\"", "registry.pin_sha256"),
        ("url = \"http://r.example\"\npin_sha256 = \"\(RegistryTLSConfigurationTests.pin)\"", "registry.pin_sha256"),
        ("url = \"http://r.example\"\nca_file = \"/x.pem\"", "registry.ca_file"),
        ("url = \"https://r.example\"\nca_file = 3", "registry.ca_file"),
    ]

    static let cases: [(toml: String, key: String)] =
        server + transfer + dot + zones
        + chain.map { (ChainProfileConfigurationTests.base + $0.toml, $0.key) }
        + endpoints.map { (ChainProfileConfigurationTests.endpoints($0.toml), $0.key) }
        + registry.map { ("[registry]\n" + $0.toml, $0.key) }

    @Test(arguments: cases)
    func badValueNamesItsKey(toml: String, key: String) {
        #expect {
            _ = try ServerConfiguration(toml: toml)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.key == key && error.description.hasPrefix("invalid config key \(key): ")
        }
    }
}
