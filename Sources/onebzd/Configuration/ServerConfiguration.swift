import ChainReader
import DNSEngine
import Foundation
import HTTPGateway
import NodeRegistry
import TOMLConfiguration

/// Everything onebzd is configured with: one TOML file (`--config`), then flags that
/// override it. Every field has a production default except what only the operator
/// can know (RPC URLs, contract address). Documented key by key in docs/configuration.md.
/// The model is here; the reader in `ServerConfiguration+Reader.swift` (and one file per
/// section: `+Transfer`, `+Registry`, `+Gateway`, `+DoT`), the value checks in
/// `ServerConfiguration+Values.swift`, typed TOML access in `TableReader` (module TOMLConfiguration, shared with onebz-web; onebzd's value types in `TableReader+Server.swift`).
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
    /// `[zone]`: the materialised zone's snapshot on disk (docs/operator.md#the-zone-snapshot).
    package var zone = ZoneSettings()
    /// `[[zones]]`: static zones served beside the main one.
    package var zones: [ServedZoneSettings] = []

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
        /// Budgets of single endpoints (`rpc_urls = [{ url = ..., requests_per_second = N }]`),
        /// overriding `requestsPerSecond` for them; 0: unlimited.
        package var endpointRequestsPerSecond: [URL: Double] = [:]
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
        /// A cold start with more registered nodes than this materialises in bulk, in
        /// call mode (`materialize_bulk_threshold`): facts from the events, records from
        /// the registry's export, no read per node.
        package var materializeBulkThreshold = 1000

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
        /// How onebzd's own DO=1 negatives are proven (`denial`, docs/dnssec.md#two-kinds-of-denial-and-why).
        package var denial: Denial = .compact
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

        /// `denial`: `compact` signs one NSEC per denied name (RFC 9824, NOERROR unless
        /// the query sets CO); `nsec3` copies the pre-signed NSEC3 proof from the chain
        /// the transfer path maintains (RFC 5155, NXDOMAIN stays NXDOMAIN).
        package enum Denial: String, Sendable, Equatable { case compact, nsec3 }
    }

    package struct ZoneSettings: Sendable, Equatable {
        /// Where the materialised zone is persisted (`snapshot_file`); nil: never.
        package var snapshotFile: String?
        /// How often it is written while it changes (`snapshot_interval`), and at shutdown.
        package var snapshotInterval: Duration = .seconds(60)
        /// At most one new SOA serial per this interval (`serial_min_interval`); changes
        /// inside it go out together in the next serial. Zero: off.
        package var serialMinInterval: Duration = .seconds(1)
    }

    package struct TTL: Sendable, Equatable {
        /// TTL of positive answers for node names (A, AAAA, TXT).
        package var positive: UInt32 = 300
        /// TTL put on stale answers (RFC 8767 4 recommends 30 s).
        package var stale: UInt32 = 30
    }
}
