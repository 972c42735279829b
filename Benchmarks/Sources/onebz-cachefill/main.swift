// Fills the dynamic answer cache with N names through the real miss path
// (DynamicNodeSource over a synthetic chain) and reports the resident set size before
// and after, and per cached name. Usage: onebz-cachefill N [ZONE]
import DNSEngine
import DNSWire
import Foundation
import NIOCore
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
let cached = harness.cachedNameCount
print(
    "cached=\(cached) rss_before_mib=\(before >> 20) rss_after_mib=\(after >> 20) "
        + "bytes_per_name=\((after - before) / max(cached, 1)) fill_seconds=\(String(format: "%.1f", seconds))")

// Hit cost with the cache this full: the source lookup alone, then the whole engine
// answer (parse, lookup, response buffer), for names spread over the cache.
let probes = 1_000_000
let names = (0..<1024).map { try! Name("NoDe-\(($0 &* 7919) % count).1bz") }
var hits = 0
var clock = ContinuousClock.now
for index in 0..<probes {
    names[index & 1023].wire.withUnsafeBytes { wire in
        if harness.source.cachedAnswer(wire: wire, type: .txt) != nil { hits += 1 }
    }
}
let lookupNanoseconds = (ContinuousClock.now - clock) / probes
let requests = names.map { name -> ByteBuffer in
    var buffer = ByteBuffer()
    buffer.writeMultipleIntegers(UInt16(7), UInt16(0x0100), UInt16(1), UInt16(0), UInt16(0), UInt16(0))
    buffer.writeBytes(name.wire)
    buffer.writeMultipleIntegers(RRType.txt.rawValue, UInt16(1))
    return buffer
}
let allocator = ByteBufferAllocator()
var answered = 0
clock = ContinuousClock.now
for index in 0..<probes {
    if case .response = harness.engine.respond(to: requests[index & 1023], transport: .udp, allocator: allocator) {
        answered += 1
    }
}
let answerNanoseconds = (ContinuousClock.now - clock) / probes
print("hit_lookup=\(lookupNanoseconds) hit_answer=\(answerNanoseconds) hits=\(hits) answered=\(answered)")
