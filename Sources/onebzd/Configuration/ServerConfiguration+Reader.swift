import ChainReader
import Foundation
import HTTPGateway
import TOMLConfiguration

// MARK: - Loading

extension ServerConfiguration {
    /// Parses a TOML document. Unknown keys are errors (a typo must not silently
    /// fall back to a default), and every error names its key.
    package init(toml text: String) throws(ConfigurationError) {
        let top = try TableReader.document(text)
        self.init()
        try top.onlyKeys([
            "server", "chain", "registry", "cache", "ttl", "dnssec", "transfer", "gateway", "dot", "zone", "zones",
        ])
        zones = try Self.servedZones(top)
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
                "materialize_concurrency", "materialize_bulk_threshold", "network", "chain_id", "follow", "requests_per_second",
                "hedge_after",
            ])
            let endpoints = try t.required(t.endpoints("rpc_urls"), "rpc_urls")
            var chain = Chain(
                rpcURLs: endpoints.map(\.url), contract: try t.required(t.address("contract"), "contract"))
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
            for endpoint in endpoints {
                if let own = endpoint.requestsPerSecond { chain.endpointRequestsPerSecond[endpoint.url] = own }
            }
            if let v = try t.duration("hedge_after") { chain.hedgeAfter = v > .zero ? v : nil }
            if let v = try t.duration("poll_interval") { chain.pollInterval = v }
            if let v = try t.int("max_log_range", min: 1) { chain.maxLogRange = UInt64(v) }
            if let v = try t.duration("timeout") { chain.timeout = v }
            if let v = try t.bool("materialize") { chain.materialize = v }
            if let v = try t.int("materialize_concurrency", min: 1, max: 4096) { chain.materializeConcurrency = v }
            if let v = try t.int("materialize_bulk_threshold", min: 0) { chain.materializeBulkThreshold = v }
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
                "check_interval", "prepublish", "parent_ds_ttl", "key_lifetime", "ds_seen_delay", "denial",
            ])
            if let v = try t.string("denial") {
                guard let mode = DNSSEC.Denial(rawValue: v) else {
                    throw ConfigurationError(key: t.key("denial"), "must be \"compact\" or \"nsec3\", not \"\(v)\"")
                }
                guard mode == .compact || chain?.materialize != false else {
                    throw ConfigurationError(
                        key: t.key("denial"), "\"nsec3\" needs [chain] materialize = true (the chain is that zone's)")
                }
                dnssec.denial = mode
            }
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
        if let t = try top.table("zone") {
            try t.onlyKeys(["snapshot_file", "snapshot_interval", "serial_min_interval"])
            if let v = try t.string("snapshot_file") {
                guard !v.isEmpty else { throw ConfigurationError(key: t.key("snapshot_file"), "must not be empty") }
                guard chain?.materialize != false else {
                    throw ConfigurationError(
                        key: t.key("snapshot_file"), "needs a [chain] with materialize = true (it persists that zone)")
                }
                zone.snapshotFile = v
            }
            if let v = try t.duration("snapshot_interval") {
                guard v >= .milliseconds(100) else {
                    throw ConfigurationError(key: t.key("snapshot_interval"), "must be at least 100ms")
                }
                zone.snapshotInterval = v
            }
            if let v = try t.duration("serial_min_interval") {
                guard v <= .seconds(3600) else {
                    throw ConfigurationError(key: t.key("serial_min_interval"), "must be at most 1h (0 turns it off)")
                }
                zone.serialMinInterval = v
            }
        }
        if let t = try top.table("ttl") {
            try t.onlyKeys(["positive", "stale"])
            if let v = try t.int("positive", min: 0, max: Int(Int32.max)) { ttl.positive = UInt32(v) }
            if let v = try t.int("stale", min: 0, max: Int(Int32.max)) { ttl.stale = UInt32(v) }
        }
    }
}
