// Fills the dynamic answer cache with N names through the real miss path
// (DynamicNodeSource over a synthetic chain) and reports the resident set size before
// and after, and per cached name. Usage: onebz-cachefill N [ZONE]
import DNSWire
import Foundation
@_spi(Benchmarks) import OneBZResolver
import ZoneCache

/// VmRSS from /proc/self/status, in bytes.
func residentBytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return kilobytes * 1024
    }
    return 0
}

let arguments = CommandLine.arguments
guard arguments.count >= 2, let count = Int(arguments[1]), count > 0 else {
    FileHandle.standardError.write("usage: onebz-cachefill N [ZONE]\n".data(using: .utf8)!)
    exit(2)
}
let zonePath = arguments.count >= 3 ? arguments[2] : "zones/1bz.zone"
let zone = try Zone(file: zonePath, apex: try Name("1bz."))
let harness = DynamicCacheHarness(zone: zone, maxEntries: count)
let before = residentBytes()
let started = Date()
// Aliases as people register them (8-12 characters), TXT answers (the largest a node
// gives: node=, verified=, wallet=).
for index in 0..<count {
    await harness.fill(try Name("node-\(index).1bz"), type: .txt)
}
let seconds = Date().timeIntervalSince(started)
let after = residentBytes()
let cached = harness.cachedAnswerCount
print(
    "cached=\(cached) rss_before_mib=\(before >> 20) rss_after_mib=\(after >> 20) "
        + "bytes_per_name=\((after - before) / max(cached, 1)) fill_seconds=\(String(format: "%.1f", seconds))")
