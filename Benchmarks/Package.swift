// swift-tools-version:6.1
// Benchmarks for the pure query path (decode, answer, cache lookup) and a cache-fill
// tool for memory per cached name. A separate package so that the benchmark
// dependencies stay out of the main build and scripts/test. Run:
//   swift package --package-path Benchmarks benchmark
//   swift run -c release --package-path Benchmarks onebz-cachefill 1000000
import PackageDescription

let package = Package(
    name: "onebz-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "onebz", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "QueryPath",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "OneBZCore", package: "onebz"),
            ],
            path: "Benchmarks/QueryPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(
            name: "onebz-cachefill",
            dependencies: [.product(name: "OneBZCore", package: "onebz")],
            path: "Sources/onebz-cachefill"),
    ]
)
