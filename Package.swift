// swift-tools-version:6.1
// The 1bz DNS package: see docs/architecture.md for the module layering.
// DNSWire -> ZoneCache -> DNSEngine -> ZoneTransfer -> DNSTransport -> onebzd
//                         DNSEngine -> HTTPGateway  -> onebzd
// ChainReader -> NodeRegistry -> OneBZResolver (imports DNSEngine, ZoneTransfer) -> HTTPGateway, onebzd
//                NodeRegistry -> onebz-registry, onebz
import PackageDescription

let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let atomics: Target.Dependency = .product(name: "Atomics", package: "swift-atomics")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let asyncHTTPClient: Target.Dependency = .product(name: "AsyncHTTPClient", package: "async-http-client")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let nioConcurrency: Target.Dependency = .product(name: "NIOConcurrencyHelpers", package: "swift-nio")
let deque: Target.Dependency = .product(name: "DequeModule", package: "swift-collections")
let tomlKit: Target.Dependency = .product(name: "TOMLKit", package: "TOMLKit")
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let cryptoExtras: Target.Dependency = .product(name: "_CryptoExtras", package: "swift-crypto")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")

let package = Package(
    name: "onebz",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "onebzd", targets: ["onebzd"]),
        .executable(name: "onebz-registry", targets: ["onebz-registry"]),
        .executable(name: "onebz", targets: ["onebz"]),
        .executable(name: "onebz-web", targets: ["onebz-web"]),
        // For Benchmarks/ (a separate package, so its dependencies stay out of this build).
        .library(name: "OneBZCore", targets: ["DNSWire", "ZoneCache", "DNSSEC", "DNSEngine", "OneBZResolver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Already in the graph through hummingbird; HTTPServerGuard uses them directly
        // (the TLS handshake timeout, request body timeout).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // Already in the graph through hummingbird/swift-certificates; used directly for
        // DNSSEC signing (P-256, Ed25519, SHA-256), the wallet keystore (scrypt/PBKDF2,
        // AES-CTR) and encrypted PKCS#8 (AES-CBC).
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        // Already in the graph through hummingbird; `onebz cert` uses it directly to write
        // a node's self-signed certificate with its Ed25519 identity key.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
    ],
    targets: [
        // MARK: C libraries from Debian (libldns-dev, libsodium-dev)
        .systemLibrary(name: "CLDNS", pkgConfig: "ldns", providers: [.apt(["libldns-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        // secp256k1 ECDSA with public-key recovery (Ethereum transaction signatures).
        .systemLibrary(name: "CSecp256k1", pkgConfig: "libsecp256k1", providers: [.apt(["libsecp256k1-dev"])]),
        // The validating resolver library (libunbound-dev; its .pc file wants libevent's,
        // which the headers do not need, hence no pkgConfig).
        .systemLibrary(name: "CUnbound", providers: [.apt(["libunbound-dev"])]),
        // recvmmsg/sendmmsg for the UDP fast path (Glibc hides them behind _GNU_SOURCE).
        .target(name: "CUDPBatch"),
        // glibc's malloc_trim/mallopt (<malloc.h>, not in Swift's Glibc module): the heap a
        // one-off build freed goes back to the kernel (docs/performance.md#memory-at-1m-issue-23).
        .systemLibrary(name: "CMalloc"),

        // MARK: DNS: wire format, zone and cache, the pure engine, the transports
        .target(name: "DNSWire"),
        .target(
            name: "ZoneCache",
            dependencies: ["DNSWire", "CLDNS", atomics, nioConcurrency, deque]),
        // Files that hold secrets: mode 0600 from creation, refused when open to others.
        .target(name: "SecretFile"),
        // DNSSEC: keys (BIND files), key tags, DS, canonical RRset signing (swift-crypto). Pure: time is an argument.
        // Metrics: the signatures made, per place (`onebz_dnssec_signatures_total`).
        .target(name: "DNSSEC", dependencies: ["DNSWire", "SecretFile", crypto, metrics]),
        // Pure: request bytes -> response plan -> bytes. No sockets, no clocks.
        .target(
            name: "DNSEngine",
            dependencies: ["DNSWire", "ZoneCache", "DNSSEC", nioCore, atomics, nioConcurrency]),
        // Zone transfers, a protocol of their own: TSIG (keys, key files, signing), the
        // transfer ACL, AXFR/IXFR streams, the NOTIFY schedule, the journal of
        // differences, and what a transfer serves (`ZoneTransferSource`, `ZoneVersion`).
        .target(
            name: "ZoneTransfer",
            dependencies: ["DNSEngine", "DNSWire", "ZoneCache", "DNSSEC", "SecretFile", nioConcurrency, crypto]),
        // Connection caps (in all, per client) that DNS over TCP and the HTTP servers share,
        // and the connection-lifetime and TLS-handshake handler protocols of both.
        .target(name: "ConnectionLimits", dependencies: [nioCore, .product(name: "NIOTLS", package: "swift-nio")]),
        // Sockets: the UDP fast path (threads, recvmmsg/sendmmsg), TCP (NIO), DoT/XoT
        // (NIOSSL in front of the same TCP pipeline), DNSServer.
        .target(
            name: "DNSTransport",
            dependencies: [
                "DNSEngine", "ZoneTransfer", "DNSWire", "CUDPBatch", "ConnectionLimits", nioCore, nioPosix, nioConcurrency, atomics, logging, metrics,
                serviceLifecycle, crypto, .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // Resolving 1bz names from chain and registry: the dynamic source and its cache.
        .target(
            name: "OneBZResolver",
            dependencies: [
                "DNSEngine", "ZoneTransfer", "DNSSEC", "DNSWire", "ZoneCache", "ChainReader", "NodeRegistry", nioCore, logging, metrics,
                serviceLifecycle, atomics, nioConcurrency, "CMalloc",
                // SHA-256 over a zone snapshot's content.
                crypto,
            ]),
        .executableTarget(
            name: "onebzd",
            dependencies: [
                "DNSEngine", "DNSTransport", "OneBZResolver", "ZoneTransfer", "ZoneCache", "DNSWire", "ChainReader", "NodeRegistry",
                "HTTPGateway", "HTTPServerGuard", "DNSSEC", "TOMLConfiguration", "CommandLineLogging", argumentParser,
                logging, metrics,
                serviceLifecycle, nioCore, nioPosix, nioConcurrency, tomlKit, .product(name: "Prometheus", package: "swift-prometheus"),
                // DoT: the TLS context made from the certificate files, reloaded on SIGHUP.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]),

        // MARK: Chain (issue: chain)
        .target(
            name: "ChainReader",
            dependencies: [
                asyncHTTPClient, nioCore, .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), logging, serviceLifecycle, metrics,
            ]),

        // Wallet keys (raw secp256k1 key files, keystore v3), EIP-1559/EIP-155 transactions
        // signed with libsecp256k1, and sending them (nonce, fees, gas, receipt, revert
        // reason). Apart from ChainReader so that the readers (onebzd, onebz-registry) never
        // link signing code.
        .target(name: "ChainWallet", dependencies: ["ChainReader", "CSecp256k1", crypto, cryptoExtras]),

        // MARK: Registry (issue: registry)
        .target(name: "NodeRegistry",
            dependencies: [
                "CSodium", "ChainReader", "DNSWire", asyncHTTPClient, nioCore, nioPosix, .product(name: "NIOHTTP1", package: "swift-nio"),
                // HTTPS to the registry with a pinned key (the check AsyncHTTPClient has no hook for).
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOTLS", package: "swift-nio"),
                crypto, cryptoExtras,
            ]),
        .executableTarget(
            name: "onebz-registry",
            dependencies: [
                "NodeRegistry", "ChainReader", "HTTPServerGuard", hummingbird, grdb, argumentParser, serviceLifecycle,
                logging, nioCore, nioPosix, .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ]),
        .executableTarget(
            name: "onebz",
            dependencies: [
                "NodeRegistry", "ChainReader", "ChainWallet", "DNSWire", "SecretFile", argumentParser, asyncHTTPClient,
                nioCore, crypto, .product(name: "X509", package: "swift-certificates"),
            ]),

        // The configuration file reader of onebzd and onebz-web: typed TOML values, errors
        // that name the key.
        .target(name: "TOMLConfiguration", dependencies: [tomlKit]),
        // `--log-level` and the logging bootstrap of the servers (onebzd, onebz-web).
        .target(name: "CommandLineLogging", dependencies: [argumentParser, logging]),

        // MARK: HTTP gateway (issue: gateway)
        // Timeouts and connection caps shared by the gateway and the registry (issue 21).
        .target(
            name: "HTTPServerGuard",
            dependencies: [
                "ConnectionLimits", nioCore, nioConcurrency, metrics, logging,
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
            ]),
        .target(
            name: "HTTPGateway",
            dependencies: [
                "DNSEngine", "DNSWire", "OneBZResolver", "HTTPServerGuard", hummingbird, nioCore, nioConcurrency, logging, metrics,
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),

        // MARK: Web gateway (issue 25): its own process, never linked with signing keys.
        // Browsers -> NAME.<domain> -> the node, only through TLSA validated by libunbound.
        .executableTarget(
            name: "onebz-web",
            dependencies: [
                "CUnbound", "HTTPServerGuard", "DNSWire", "TOMLConfiguration", "CommandLineLogging", hummingbird,
                argumentParser, serviceLifecycle,
                logging, metrics, nioCore, nioPosix, nioConcurrency, crypto,
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]),

        // MARK: Tests
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "DNSWireTests", dependencies: ["DNSWire"]),
        .testTarget(name: "DNSSECTests", dependencies: ["DNSSEC", "DNSWire", "TestSupport"]),
        .testTarget(name: "ZoneCacheTests", dependencies: ["ZoneCache", "DNSWire", nioConcurrency]),
        .target(
            name: "DNSTestSupport", dependencies: ["DNSEngine", "ZoneTransfer", "ZoneCache", "DNSWire", nioConcurrency],
            path: "Tests/DNSTestSupport"),
        .testTarget(
            name: "DNSEngineTests",
            dependencies: ["DNSEngine", "ZoneTransfer", "DNSSEC", "DNSTestSupport", "ZoneCache", "DNSWire", nioCore]),
        .testTarget(
            name: "DNSTransportTests",
            dependencies: [
                "DNSTransport", "DNSEngine", "ZoneTransfer", "DNSTestSupport", "DNSWire", nioCore, nioPosix, nioConcurrency,
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"), logging, serviceLifecycle,
            ]),
        .testTarget(
            name: "OneBZResolverTests",
            dependencies: [
                "OneBZResolver", "DNSEngine", "ZoneTransfer", "DNSSEC", "DNSTestSupport", "ZoneCache", "DNSWire", "ChainReader",
                "NodeRegistry", nioConcurrency,
            ]),
        .testTarget(
            name: "onebzdTests",
            dependencies: ["onebzd", "ChainReader", "DNSEngine", "DNSWire", "NodeRegistry", "TOMLConfiguration", nioConcurrency]),
        .testTarget(name: "onebzWebTests", dependencies: ["onebz-web", "TOMLConfiguration", nioCore]),
        .testTarget(
            name: "ChainReaderTests",
            dependencies: [
                "ChainReader", nioCore, nioPosix,
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),
        .testTarget(name: "NodeRegistryTests", dependencies: ["NodeRegistry", "DNSWire", "TestSupport"]),
        .testTarget(name: "ChainWalletTests", dependencies: ["ChainWallet", "ChainReader"]),
        .testTarget(
            name: "IntegrationTests", dependencies: ["TestSupport", "DNSWire", "NodeRegistry", "ChainReader", logging]),
        .testTarget(
            name: "HTTPGatewayTests",
            dependencies: [
                "HTTPGateway", "HTTPServerGuard", "ConnectionLimits", "DNSEngine", "OneBZResolver", "ZoneCache", "DNSWire",
                "TestSupport",
                hummingbird, nioCore,
                nioPosix, nioConcurrency, logging, .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
    ]
)

// MARK: Fuzzing (scripts/fuzz only, never a normal build)
// ONEBZ_FUZZ=1 instruments the pure code that reads attacker input (DNS messages and the
// engine; registry JSON; DoH parameters; JSON-RPC responses, ABI, RLP and proofs; BIND key
// and TSIG files) for libFuzzer with ASan and adds the `OnebzFuzz` executable
// (Fuzz/OnebzFuzz, one target per parser, chosen by ONEBZ_FUZZ_TARGET). scripts/fuzz builds
// it in its own scratch directory (.build-fuzz) so the instrumented objects never mix with
// the rest.
if Context.environment["ONEBZ_FUZZ"] != nil {
    let fuzzFlags: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]
    let fuzzed = ["DNSWire", "ZoneCache", "DNSEngine", "ZoneTransfer", "DNSSEC", "ChainReader", "NodeRegistry", "HTTPGateway"]
    for target in package.targets where fuzzed.contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + fuzzFlags
    }
    package.targets.append(
        .executableTarget(
            name: "OnebzFuzz",
            dependencies: [
                "DNSEngine", "ZoneTransfer", "ZoneCache", "DNSWire", "DNSSEC", "ChainReader", "NodeRegistry", "HTTPGateway",
                nioCore, .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            path: "Fuzz/OnebzFuzz",
            swiftSettings: fuzzFlags + [.unsafeFlags(["-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-use-ld=lld"])]))
    package.products.append(.executable(name: "OnebzFuzz", targets: ["OnebzFuzz"]))
}
