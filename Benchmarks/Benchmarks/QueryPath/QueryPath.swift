// The pure query path, without sockets: instructions and allocations per query.
// Each benchmark runs `scaledIterations` queries per measurement (scaling .kilo), so
// the reported numbers are per query. Allocations per cached query must stay at 0 on
// the UDP fast path (answers written in place), 2 where the answer goes into a new
// ByteBuffer (TCP, DoH: the buffer's storage object and its bytes), 0 for decode and
// cache lookup.
import Benchmark
import DNSEngine
import DNSSEC
import DNSWire
import Foundation
import NIOCore
@_spi(Benchmarks) import OneBZResolver
import ZoneCache

let zonePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../../zones/1bz.zone").standardized.path
let zone = try! Zone(file: zonePath, apex: try! Name("1bz."))

/// A query as dig sends it: RD, one question, an OPT with payload 1232 (DO set with
/// `dnssec`, as `dig +dnssec`).
func query(_ name: String, _ type: RRType, dnssec: Bool = false) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeMultipleIntegers(UInt16(0x1234), UInt16(0x0100), UInt16(1), UInt16(0), UInt16(0), UInt16(1))
    buffer.writeBytes(try! Name(name).wire)
    buffer.writeMultipleIntegers(type.rawValue, UInt16(1))
    buffer.writeInteger(UInt8(0))
    buffer.writeMultipleIntegers(UInt16(41), UInt16(1232), UInt32(dnssec ? 0x8000 : 0), UInt16(0))
    return buffer
}

/// The zone signed online with a new P-256 CSK (DNSSEC, docs/dnssec.md).
let signer = ZoneSigner(apex: try! Name("1bz."), keys: [try! SigningKey.generate(algorithm: .ecdsaP256SHA256)])

var perQuery: Benchmark.Configuration {
    .init(
        metrics: [.instructions, .mallocCountTotal, .cpuTotal, .throughput],
        scalingFactor: .kilo, maxDuration: .seconds(2), maxIterations: 1_000)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark("decode (QueryView.parse)", configuration: perQuery) { benchmark in
        let request = query("WwW.1Bz", .a)
        request.withUnsafeReadableBytes { raw in
            for _ in benchmark.scaledIterations { blackHole(QueryView.parse(raw)) }
        }
    }

    Benchmark("answer static (QueryEngine.respond)", configuration: perQuery) { benchmark in
        answerIntoBuffer(QueryEngine(zone: zone), query("WwW.1Bz", .a), benchmark)
    }

    Benchmark("answer NXDOMAIN (QueryEngine.respond)", configuration: perQuery) { benchmark in
        answerIntoBuffer(QueryEngine(zone: zone), query("no.such.1bz", .a), benchmark)
    }

    Benchmark("answer cached dynamic (QueryEngine.respond)", configuration: perQuery) { benchmark async in
        let harness = DynamicCacheHarness(zone: zone, maxEntries: 10_000)
        await harness.fill(try! Name("shashi.1bz"), type: .txt)
        answerIntoBuffer(harness.engine, query("ShAsHi.1bz", .txt), benchmark)
    }

    Benchmark("answer static in place (UDP fast path)", configuration: perQuery) { benchmark in
        let engine = QueryEngine(zone: zone)
        try answerInPlace(engine, query("WwW.1Bz", .a), benchmark)
    }

    Benchmark("answer static signed, DO=1, in place (UDP fast path)", configuration: perQuery) { benchmark in
        let engine = QueryEngine(zone: zone, signer: signer, unixTime: 1_780_000_000)
        try answerInPlace(engine, query("WwW.1Bz", .a, dnssec: true), benchmark)
    }

    Benchmark("answer cached dynamic in place (UDP fast path)", configuration: perQuery) { benchmark async throws in
        let harness = DynamicCacheHarness(zone: zone, maxEntries: 10_000)
        await harness.fill(try! Name("shashi.1bz"), type: .txt)
        try answerInPlace(harness.engine, query("ShAsHi.1bz", .txt), benchmark)
    }

    Benchmark("cache lookup (DynamicNodeSource.cachedAnswer)", configuration: perQuery) { benchmark async in
        let harness = DynamicCacheHarness(zone: zone, maxEntries: 10_000)
        for index in 0..<1_000 { await harness.fill(try! Name("node\(index).1bz"), type: .a) }
        let name = try! Name("NoDe7.1bz")
        let source = harness.source
        benchmark.startMeasurement()
        name.wire.withUnsafeBytes { wire in
            for _ in benchmark.scaledIterations { blackHole(source.cachedAnswer(wire: wire, type: .a)) }
        }
    }
}

/// Answer into a new ByteBuffer, as TCP and DoH do (with the UDP size limit).
func answerIntoBuffer(_ engine: QueryEngine, _ request: ByteBuffer, _ benchmark: Benchmark) {
    let allocator = ByteBufferAllocator()
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
        blackHole(engine.respond(to: request, transport: .udp, allocator: allocator))
    }
    benchmark.stopMeasurement()
}

/// What a UDP worker does per datagram: answer into a preallocated slot.
func answerInPlace(_ engine: QueryEngine, _ request: ByteBuffer, _ benchmark: Benchmark) throws {
    struct NotAnswered: Error {}
    let slot = UnsafeMutableRawBufferPointer.allocate(byteCount: 1232, alignment: 16)
    defer { slot.deallocate() }
    try request.withUnsafeReadableBytes { raw in
        // Measure answers, not drops or pending lookups.
        guard case .response = engine.respond(udp: raw, into: slot) else { throw NotAnswered() }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(engine.respond(udp: raw, into: slot)) }
        benchmark.stopMeasurement()
    }
}
