import ChainReader
import DNSEngine
import Foundation
import HTTPGateway
import NodeRegistry
import TOMLKit

/// Everything onebzd is configured with: one TOML file (`--config`), then flags that
/// override it. Every field has a production default except what only the operator
/// can know (RPC URLs, contract address). Documented key by key in docs/configuration.md.
package struct ServerConfiguration: Sendable, Equatable {
    package var server = Server()
    /// Absent: only the static zone is served (names not in it are NXDOMAIN).
    package var chain: Chain?
    /// Absent: names answer from the chain alone (TXT without addresses).
    package var registry: Registry?
    package var cache = Cache()
    package var ttl = TTL()
    package var dnssec = DNSSEC()
    /// `[transfer]`: zone transfers to secondaries (docs/scale-out.md).
    package var transfer = Transfer()
    /// `[gateway]`: the HTTP gateway's timeouts, connection caps and `/resolve` rate.
    package var gateway = GatewaySettings()
    /// `[dot]`: DNS over TLS and XoT (nil: no TLS listener).
    package var dot: DoT?

    package init() {}

    package struct Server: Sendable, Equatable {
        package var listen: [HostPort] = [HostPort(host: "0.0.0.0", port: 53)]
        package var zoneFile = "zones/1bz.zone"
        package var http: HostPort?
        /// CH TXT id.server / hostname.bind.
        package var identity = "onebzd"
        /// CH TXT version.bind / version.server.
        package var version = "onebzd"
        /// Refuse CH TXT id.server / version.bind instead of answering them.
        package var refuseChaos = false
        package var tcpIdleTimeout: Duration = .seconds(10)
        package var tcpMaxConnections = 1024
        package var tcpMaxConnectionsPerClient = 64
        /// UDP response-rate limiting (`rrl_*` keys): on by default at NSD's 200
        /// responses/s per netblock, loopback exempt; nil (`rrl_responses_per_second = 0`): off.
        package var rateLimit: ResponseRateLimiter.Configuration? = .init(
            responsesPerSecond: ResponseRateLimiter.Configuration.defaultRate)
        /// DNS cookies (`cookies`, `cookie_secret`); nil (the default): off.
        package var cookies: DNSCookies.Configuration?
    }

    /// Typed when read: a value that parsed here is never parsed again.
    package struct Chain: Sendable, Equatable {
        package var rpcURLs: [URL]
        package var contract: EthereumAddress

        package init(rpcURLs: [URL], contract: EthereumAddress) {
            self.rpcURLs = rpcURLs
            self.contract = contract
        }

        /// The read-only helper that returns resolveDNS + nodes in one eth_call.
        package var lookupContract: EthereumAddress?
        /// The chain profile (`network`) the defaults below came from; nil: none named.
        package var network: ChainProfile?
        /// What every endpoint's eth_chainId must answer (`chain_id`, or the profile's);
        /// nil: not checked.
        package var expectedChainID: UInt64?
        /// Follow the `finalized` block instead of latest - confirmations (`follow`).
        package var useFinalizedTag = false
        /// Requests per second per endpoint (`requests_per_second`); nil: unlimited.
        package var requestsPerSecond: Double?
        /// Hedge a slow read to the next endpoint after this (`hedge_after`); nil: never.
        package var hedgeAfter: Duration?
        package var deployBlock: UInt64 = 0
        package var confirmations: UInt64 = 0
        package var pollInterval: Duration = .seconds(2)
        package var maxLogRange: UInt64 = 1000
        package var timeout: Duration = .seconds(3)
        /// How chain facts are believed (`verify`): `.call` trusts the endpoint's eth_call
        /// answers; `.proof` checks eth_getProof storage proofs against the state root of
        /// a block `quorum` endpoints agree on (docs/chain.md, Verified reads).
        package var verify: VerifyMode = .call
        /// Endpoints that must report the same block hash and state root (`quorum`); nil:
        /// a majority of `rpc_urls`. Used in proof mode.
        package var quorum: Int?
        /// The contract's storage layout (`storage_layout`: "solidity" for the seed's
        /// contract, "vyper" for the devnet's port); required in proof mode, since a wrong
        /// layout would prove every name free.
        package var storageLayout: StorageLayoutName?

        /// Keep every registered name in memory (`materialize`, default true): unknown
        /// names are NXDOMAIN without an RPC call once the follower synced, and the
        /// zone can be transferred and dumped. False: every miss asks the chain.
        package var materialize = true
        /// Lookups in flight while materialising (`materialize_concurrency`).
        package var materializeConcurrency = 32

        package enum VerifyMode: String, Sendable, Equatable { case call, proof }

        /// The profile's defaults; keys read after this override them.
        package mutating func apply(_ profile: ChainProfile) {
            network = profile
            expectedChainID = profile.chainID
            useFinalizedTag = profile.useFinalizedTag
            confirmations = profile.confirmations
            pollInterval = profile.pollInterval
            maxLogRange = profile.maxLogRange
            requestsPerSecond = profile.requestsPerSecond
            hedgeAfter = profile.hedgeAfter
        }
        package enum StorageLayoutName: String, Sendable, Equatable { case solidity, vyper }
    }

    package struct Registry: Sendable, Equatable {
        package var url: String

        package init(url: String) { self.url = url }

        package var pollInterval: Duration = .seconds(2)
        package var timeout: Duration = .seconds(2)
        /// Where the highest record seq per node is kept across restarts (nil: memory only).
        package var seqFile: String? = nil
        /// HTTPS: trust only the certificates in this PEM file (read at start).
        package var caFile: String? = nil
        /// HTTPS: the SHA-256 the registry certificate's key must hash to.
        package var pin: SPKIPin? = nil
    }

    package struct Cache: Sendable, Equatable {
        package var maxEntries = 1_000_000
        package var maxBytes = 512 << 20
        /// RFC 8767 5: how long past expiry an answer may still be served while
        /// upstreams fail (1 to 3 days suggested).
        package var maxStale: Duration = .seconds(86_400)
        package var maxInFlight = 1024
        /// How long a query waits for its upstream lookup (then stale or SERVFAIL).
        package var missTimeout: Duration = .seconds(2)
    }

    /// `[dnssec]`: online signing (docs/dnssec.md).
    package struct DNSSEC: Sendable, Equatable {
        package var enabled = false
        /// BIND-format key files (`K1bz.+013+NNNNN.key/.private`).
        package var keyDir = "keys"
        /// The algorithm of a key onebzd generates when the directory has none.
        package var algorithm = "ecdsap256sha256"
        /// Validity of signatures over the static zone (RFC 4034 3.1.5).
        package var signatureValidity: Duration = .seconds(7 * 86_400)
        /// Validity of signatures over chain-backed answers.
        package var dynamicSignatureValidity: Duration = .seconds(2 * 86_400)
        /// Signatures are renewed once less than this remains (default: a quarter of
        /// the validity).
        package var refresh: Duration?
        /// How often the key directory is re-read and signature ages checked.
        package var checkInterval: Duration = .seconds(60)
        /// Rollover: a successor is published this long before it signs, and a retired
        /// key stays published this long after it stopped (the zone's largest TTL).
        package var prepublish: Duration = .seconds(3600)
        /// Rollover: the TTL of our DS at the parent.
        package var parentDSTTL: Duration = .seconds(86_400)
        /// Roll the key automatically this long after it became active (nil: by hand).
        package var keyLifetime: Duration?
        /// Count the successor's DS as seen this long after it became active (nil:
        /// wait for `onebzd dnssec ds-seen`).
        package var dsSeenDelay: Duration?
    }

    package struct TTL: Sendable, Equatable {
        /// TTL of positive answers for node names (A, AAAA, TXT).
        package var positive: UInt32 = 300
        /// TTL put on stale answers (RFC 8767 4 recommends 30 s).
        package var stale: UInt32 = 30
    }
}

// MARK: - Loading

extension ServerConfiguration {
    /// Parses a TOML document. Unknown keys are errors (a typo must not silently
    /// fall back to a default), and every error names its key.
    package init(toml text: String) throws(ConfigurationError) {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(key: "(file)", "TOML syntax at \(error.source.begin): \(error.description)")
        } catch {
            throw ConfigurationError(key: "(file)", "\(error)")
        }
        self.init()
        let top = TableReader(root, path: "")
        try top.onlyKeys(["server", "chain", "registry", "cache", "ttl", "dnssec", "transfer", "gateway", "dot"])
        if let t = try top.table("transfer") { transfer = try Self.transfer(t) }
        if let t = try top.table("gateway") { gateway = try Self.gateway(t) }
        if let t = try top.table("dot") { dot = try Self.dot(t) }
        if let t = try top.table("server") {
            try t.onlyKeys([
                "listen", "zone", "http", "identity", "version", "refuse_chaos", "tcp_idle_timeout",
                "tcp_max_connections", "tcp_max_connections_per_client", "rrl_responses_per_second", "rrl_slip",
                "rrl_ipv4_prefix", "rrl_ipv6_prefix", "rrl_exempt", "cookies", "cookie_secret",
            ])
            if let v = try t.hostPorts("listen") { server.listen = v }
            if let v = try t.string("zone") { server.zoneFile = v }
            server.http = try t.hostPort("http")
            if let v = try t.string("identity") { server.identity = v }
            if let v = try t.string("version") { server.version = v }
            if let v = try t.bool("refuse_chaos") { server.refuseChaos = v }
            if let v = try t.duration("tcp_idle_timeout") { server.tcpIdleTimeout = v }
            if let v = try t.int("tcp_max_connections", min: 1) { server.tcpMaxConnections = v }
            if let v = try t.int("tcp_max_connections_per_client", min: 1) { server.tcpMaxConnectionsPerClient = v }
            server.rateLimit = try Self.rateLimit(t)
            server.cookies = try Self.cookies(t)
        }
        if let t = try top.table("chain") {
            try t.onlyKeys([
                "rpc_urls", "contract", "lookup_contract", "deploy_block", "confirmations", "poll_interval",
                "max_log_range", "timeout", "verify", "quorum", "storage_layout", "materialize",
                "materialize_concurrency", "network", "chain_id", "follow", "requests_per_second",
                "hedge_after",
            ])
            var chain = Chain(
                rpcURLs: try t.required(t.urls("rpc_urls"), "rpc_urls"),
                contract: try t.required(t.address("contract"), "contract"))
            chain.lookupContract = try t.address("lookup_contract")
            if let v = try t.string("network") {
                guard let profile = ChainProfile.named(v) else {
                    let names = ChainProfile.all.map { "\"\($0.name)\"" }.joined(separator: ", ")
                    throw ConfigurationError(key: t.key("network"), "must be one of \(names), not \"\(v)\"")
                }
                chain.apply(profile)
            }
            if let v = try t.int("chain_id", min: 1) { chain.expectedChainID = UInt64(v) }
            if let v = try t.int("deploy_block", min: 0) { chain.deployBlock = UInt64(v) }
            if let v = try t.int("confirmations", min: 0) {
                // Confirmations count from the latest block: naming them follows latest.
                chain.confirmations = UInt64(v)
                chain.useFinalizedTag = false
            }
            if let v = try t.string("follow") {
                switch v {
                case "finalized": chain.useFinalizedTag = true
                case "latest": chain.useFinalizedTag = false
                default: throw ConfigurationError(key: t.key("follow"), "must be \"finalized\" or \"latest\", not \"\(v)\"")
                }
            }
            if let v = try t.double("requests_per_second", min: 0) { chain.requestsPerSecond = v > 0 ? v : nil }
            if let v = try t.duration("hedge_after") { chain.hedgeAfter = v > .zero ? v : nil }
            if let v = try t.duration("poll_interval") { chain.pollInterval = v }
            if let v = try t.int("max_log_range", min: 1) { chain.maxLogRange = UInt64(v) }
            if let v = try t.duration("timeout") { chain.timeout = v }
            if let v = try t.bool("materialize") { chain.materialize = v }
            if let v = try t.int("materialize_concurrency", min: 1, max: 4096) { chain.materializeConcurrency = v }
            if let v = try t.string("verify") {
                guard let mode = Chain.VerifyMode(rawValue: v) else {
                    throw ConfigurationError(key: t.key("verify"), "must be \"call\" or \"proof\", not \"\(v)\"")
                }
                chain.verify = mode
            }
            if let v = try t.int("quorum", min: 1, max: chain.rpcURLs.count) { chain.quorum = v }
            if let v = try t.string("storage_layout") {
                guard let layout = Chain.StorageLayoutName(rawValue: v) else {
                    throw ConfigurationError(
                        key: t.key("storage_layout"), "must be \"solidity\" or \"vyper\", not \"\(v)\"")
                }
                chain.storageLayout = layout
            }
            if chain.verify == .proof, chain.storageLayout == nil {
                throw ConfigurationError(
                    key: t.key("storage_layout"), "is required with verify = \"proof\" (\"solidity\" or \"vyper\")")
            }
            self.chain = chain
        }
        if let t = try top.table("registry") {
            try t.onlyKeys(["url", "poll_interval", "timeout", "seq_file", "ca_file", "pin_sha256"])
            guard let url = try t.urls("url", single: true)?.first?.absoluteString else {
                throw ConfigurationError(key: t.key("url"), "is required in [registry]")
            }
            var registry = Registry(url: url)
            if let v = try t.duration("poll_interval") { registry.pollInterval = v }
            if let v = try t.duration("timeout") { registry.timeout = v }
            registry.seqFile = try t.string("seq_file")
            try Self.registryTLS(t, into: &registry)
            self.registry = registry
        }
        if let t = try top.table("cache") {
            try t.onlyKeys(["max_entries", "max_bytes", "max_stale", "max_in_flight", "miss_timeout"])
            if let v = try t.int("max_entries", min: 1) { cache.maxEntries = v }
            if let v = try t.int("max_bytes", min: 1024) { cache.maxBytes = v }
            if let v = try t.duration("max_stale") { cache.maxStale = v }
            if let v = try t.int("max_in_flight", min: 1) { cache.maxInFlight = v }
            if let v = try t.duration("miss_timeout") {
                guard v > .zero else { throw ConfigurationError(key: t.key("miss_timeout"), "must be positive") }
                cache.missTimeout = v
            }
        }
        if let t = try top.table("dnssec") {
            try t.onlyKeys([
                "enabled", "key_dir", "algorithm", "signature_validity", "dynamic_signature_validity", "refresh",
                "check_interval", "prepublish", "parent_ds_ttl", "key_lifetime", "ds_seen_delay",
            ])
            if let v = try t.duration("prepublish") { dnssec.prepublish = v }
            if let v = try t.duration("parent_ds_ttl") { dnssec.parentDSTTL = v }
            dnssec.keyLifetime = try t.duration("key_lifetime")
            dnssec.dsSeenDelay = try t.duration("ds_seen_delay")
            if let lifetime = dnssec.keyLifetime, lifetime <= dnssec.prepublish {
                throw ConfigurationError(key: t.key("key_lifetime"), "must be longer than prepublish")
            }
            if let v = try t.bool("enabled") { dnssec.enabled = v }
            if let v = try t.string("key_dir") {
                guard !v.isEmpty else { throw ConfigurationError(key: t.key("key_dir"), "must not be empty") }
                dnssec.keyDir = v
            }
            if let v = try t.string("algorithm") {
                dnssec.algorithm = try Self.algorithm(v, key: t.key("algorithm"))
            }
            if let v = try t.duration("signature_validity") { dnssec.signatureValidity = v }
            if let v = try t.duration("dynamic_signature_validity") { dnssec.dynamicSignatureValidity = v }
            dnssec.refresh = try t.duration("refresh")
            if let v = try t.duration("check_interval") {
                guard v > .zero else { throw ConfigurationError(key: t.key("check_interval"), "must be positive") }
                dnssec.checkInterval = v
            }
            for (name, validity) in [
                ("signature_validity", dnssec.signatureValidity),
                ("dynamic_signature_validity", dnssec.dynamicSignatureValidity),
            ] {
                guard validity >= .seconds(7200) else {
                    throw ConfigurationError(key: t.key(name), "must be at least 2h")
                }
                if let refresh = dnssec.refresh, refresh >= validity {
                    throw ConfigurationError(key: t.key("refresh"), "must be shorter than \(name)")
                }
            }
        }
        if let t = try top.table("ttl") {
            try t.onlyKeys(["positive", "stale"])
            if let v = try t.int("positive", min: 0, max: Int(Int32.max)) { ttl.positive = UInt32(v) }
            if let v = try t.int("stale", min: 0, max: Int(Int32.max)) { ttl.stale = UInt32(v) }
        }
    }
}

extension ServerConfiguration {
    /// `[server] rrl_*`: on unless rrl_responses_per_second = 0 (absent: NSD's 200).
    private static func rateLimit(_ t: TableReader) throws(ConfigurationError) -> ResponseRateLimiter.Configuration? {
        let rate = try t.int("rrl_responses_per_second", min: 0) ?? ResponseRateLimiter.Configuration.defaultRate
        guard rate > 0 else {
            for key in ["rrl_slip", "rrl_ipv4_prefix", "rrl_ipv6_prefix", "rrl_exempt"] where t.table[key] != nil {
                throw ConfigurationError(key: t.key(key), "needs rrl_responses_per_second > 0 (RRL is off)")
            }
            return nil
        }
        var rrl = ResponseRateLimiter.Configuration(responsesPerSecond: rate)
        if let list = try t.strings("rrl_exempt") {
            rrl.exempt = try list.enumerated().map { index, text throws(ConfigurationError) in
                guard let prefix = AddressPrefix(text) else {
                    throw ConfigurationError(key: t.key("rrl_exempt[\(index)]"), "\"\(text)\" is not an address or CIDR prefix")
                }
                return prefix
            }
        }
        if let v = try t.int("rrl_slip", min: 0, max: 100) { rrl.slip = v }
        if let v = try t.int("rrl_ipv4_prefix", min: 8, max: 32) { rrl.ipv4PrefixLength = v }
        if let v = try t.int("rrl_ipv6_prefix", min: 16, max: 128) { rrl.ipv6PrefixLength = v }
        return rrl
    }

    /// `[server] cookies = true`, with `cookie_secret` (32 hex digits, shared by every
    /// instance of an anycast fleet, RFC 9018) or a random secret per start.
    private static func cookies(_ t: TableReader) throws(ConfigurationError) -> DNSCookies.Configuration? {
        let secretText = try t.string("cookie_secret")
        guard try t.bool("cookies") == true else {
            if secretText != nil { throw ConfigurationError(key: t.key("cookie_secret"), "needs cookies = true") }
            return nil
        }
        guard let secretText else {
            var generator = SystemRandomNumberGenerator()
            return DNSCookies.Configuration(secret: (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        let digits = Array(secretText.utf8)
        let secret =
            digits.count == 32
            ? (0..<16).compactMap { UInt8(String(decoding: digits[(2 * $0)..<(2 * $0 + 2)], as: UTF8.self), radix: 16) }
            : []
        guard secret.count == 16 else {
            throw ConfigurationError(key: t.key("cookie_secret"), "must be 32 hex digits (16 bytes)")
        }
        return DNSCookies.Configuration(secret: secret)
    }

    /// `ecdsap256sha256` (13) or `ed25519` (15), in its canonical spelling.
    package static func algorithm(_ text: String, key: String) throws(ConfigurationError) -> String {
        switch text.lowercased() {
        case "ecdsap256sha256", "13": return "ecdsap256sha256"
        case "ed25519", "15": return "ed25519"
        default: throw ConfigurationError(key: key, "\"\(text)\" is not ecdsap256sha256 or ed25519")
        }
    }

    /// An http(s) URL with a host, or an error naming `key`.
    package static func httpURL(_ url: String, key: String) throws(ConfigurationError) -> String {
        try parsedHTTPURL(url, key: key).absoluteString
    }

    package static func parsedHTTPURL(_ url: String, key: String) throws(ConfigurationError) -> URL {
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), let parsed = URL(string: url),
            let host = parsed.host, !host.isEmpty
        else {
            throw ConfigurationError(key: key, "\"\(url)\" is not an http(s) URL")
        }
        return parsed
    }

    /// A 0x-prefixed 20-byte hex address, or an error naming `key`.
    package static func address(_ text: String, key: String) throws(ConfigurationError) -> EthereumAddress {
        let hex = text.hasPrefix("0x") ? text.dropFirst(2) : Substring(text)
        guard hex.count == 40, hex.allSatisfy(\.isHexDigit), let address = EthereumAddress(hex: hex) else {
            throw ConfigurationError(key: key, "\"\(text)\" is not a 0x-prefixed 20-byte hex address")
        }
        return address
    }
}

/// Typed access to one TOML table with errors that name the full key path.
struct TableReader {
    let table: TOMLTable
    let path: String

    init(_ table: TOMLTable, path: String) {
        self.table = table
        self.path = path
    }

    func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    func onlyKeys(_ allowed: Set<String>) throws(ConfigurationError) {
        for name in table.keys.sorted() where !allowed.contains(name) {
            throw ConfigurationError(
                key: key(name), "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    func required<T>(_ value: T?, _ name: String) throws(ConfigurationError) -> T {
        guard let value else {
            throw ConfigurationError(key: key(name), "is required in [\(path)]")
        }
        return value
    }

    func table(_ name: String) throws(ConfigurationError) -> TableReader? {
        guard let value = table[name] else { return nil }
        guard let t = value.table else { throw ConfigurationError(key: key(name), "must be a table ([\(name)])") }
        return TableReader(t, path: key(name))
    }

    func string(_ name: String) throws(ConfigurationError) -> String? {
        guard let value = table[name] else { return nil }
        guard let s = value.string else { throw ConfigurationError(key: key(name), "must be a string") }
        return s
    }

    func int(_ name: String, min: Int, max: Int = Int.max) throws(ConfigurationError) -> Int? {
        guard let value = table[name] else { return nil }
        guard let i = value.int else { throw ConfigurationError(key: key(name), "must be an integer") }
        guard i >= min && i <= max else {
            throw ConfigurationError(key: key(name), "\(i) is out of range (\(min)...\(max))")
        }
        return i
    }

    /// An integer or a float, at least `min`.
    func double(_ name: String, min: Double) throws(ConfigurationError) -> Double? {
        guard let value = table[name] else { return nil }
        guard let d = value.double ?? value.int.map(Double.init), d.isFinite else {
            throw ConfigurationError(key: key(name), "must be a number")
        }
        guard d >= min else { throw ConfigurationError(key: key(name), "\(d) must be at least \(min)") }
        return d
    }

    /// An integer (seconds) or a string with a unit: `500ms`, `2s`, `5m`, `1h`, `3d`.
    func duration(_ name: String) throws(ConfigurationError) -> Duration? {
        guard let value = table[name] else { return nil }
        if let seconds = value.int {
            guard seconds >= 0 else { throw ConfigurationError(key: key(name), "must not be negative") }
            return .seconds(seconds)
        }
        guard let text = value.string, let d = Self.parseDuration(text) else {
            throw ConfigurationError(key: key(name), "must be seconds or a duration like \"500ms\", \"2s\", \"5m\", \"1h\", \"1d\"")
        }
        return d
    }

    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, millis) in units where text.hasSuffix(suffix) {
            guard let n = Int64(text.dropLast(suffix.count)), n >= 0 else { return nil }
            return .milliseconds(n * millis)
        }
        return nil
    }

    func hostPort(_ name: String) throws(ConfigurationError) -> HostPort? {
        guard let text = try string(name) else { return nil }
        do { return try HostPort(parsing: text) } catch { throw ConfigurationError(key: key(name), error.problem) }
    }

    func hostPorts(_ name: String) throws(ConfigurationError) -> [HostPort]? {
        guard let items = try strings(name) else { return nil }
        guard !items.isEmpty else { throw ConfigurationError(key: key(name), "must list at least one address") }
        var out: [HostPort] = []
        for (i, text) in items.enumerated() {
            do { out.append(try HostPort(parsing: text)) } catch {
                throw ConfigurationError(key: "\(key(name))[\(i)]", error.problem)
            }
        }
        return out
    }

    func strings(_ name: String) throws(ConfigurationError) -> [String]? {
        guard let value = table[name] else { return nil }
        if let s = value.string { return [s] }
        guard let array = value.array else {
            throw ConfigurationError(key: key(name), "must be a string or an array of strings")
        }
        var out: [String] = []
        for (i, item) in array.enumerated() {
            guard let s = item.string else { throw ConfigurationError(key: "\(key(name))[\(i)]", "must be a string") }
            out.append(s)
        }
        return out
    }

    /// http(s) URLs; `single` accepts exactly one.
    func urls(_ name: String, single: Bool = false) throws(ConfigurationError) -> [URL]? {
        let items: [String]?
        if single { items = try string(name).map { [$0] } } else { items = try strings(name) }
        guard let items else { return nil }
        guard !items.isEmpty else { throw ConfigurationError(key: key(name), "must list at least one URL") }
        return try items.enumerated().map { i, url throws(ConfigurationError) in
            try ServerConfiguration.parsedHTTPURL(url, key: single ? key(name) : "\(key(name))[\(i)]")
        }
    }

    /// A 0x-prefixed 20-byte hex address.
    func address(_ name: String) throws(ConfigurationError) -> EthereumAddress? {
        guard let text = try string(name) else { return nil }
        return try ServerConfiguration.address(text, key: key(name))
    }

    func bool(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let value = table[name] else { return nil }
        guard let b = value.bool else { throw ConfigurationError(key: key(name), "must be true or false") }
        return b
    }
}
