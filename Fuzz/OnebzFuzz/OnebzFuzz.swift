import DNSEngine
import DNSWire
import Glibc
import NIOCore
import ZoneCache

/// libFuzzer targets, one per parser that reads attacker input (scripts/fuzz builds this
/// with `-sanitize=fuzzer,address`; never part of a normal build, see Package.swift).
/// `ONEBZ_FUZZ_TARGET` picks the target (libFuzzer's argv stays libFuzzer's):
/// - `dns` (default): the message decoder and the query engine (`FuzzChecks`, below);
/// - `registry-json`: registry bodies and their signatures (RegistryJSONTarget.swift);
/// - `doh`: the DoH GET query string, `?dns=` base64url, the engine (DoHTarget.swift);
/// - `jsonrpc`: JSON-RPC responses and batches, typed results, ABI, RLP, proofs
///   (JSONRPCTarget.swift);
/// - `bind-key`: BIND `.private` + `.key` texts (BINDKeyTarget.swift);
/// - `tsig-key`: TSIG key files (TSIGKeyTarget.swift);
/// - `svcb`: SVCB/HTTPS RDATA, parser and encoder, and service names (SVCBTarget.swift).
/// A violated invariant traps (a finding), like a crash or an ASan report.
@main
enum OnebzFuzz {
    /// SwiftPM renames an executable's `main` (OnebzFuzz_main), so libFuzzer's own main
    /// is not linked: start its driver from ours instead (same flags and behaviour).
    static func main() {
        _ = FuzzTarget.selected
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzTarget.selected.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        })
    }
}

/// The entry libFuzzer's own objects reference (the driver gets the same function).
@_cdecl("LLVMFuzzerTestOneInput")
public func onebzFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.selected.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

enum FuzzTarget: String, CaseIterable, Sendable {
    case dns
    case registryJSON = "registry-json"
    case doh
    case jsonrpc
    case bindKey = "bind-key"
    case tsigKey = "tsig-key"
    case svcb

    /// From ONEBZ_FUZZ_TARGET (default `dns`); an unknown name exits.
    static let selected: FuzzTarget = {
        let name = getenv("ONEBZ_FUZZ_TARGET").map { String(cString: $0) } ?? "dns"
        guard let target = FuzzTarget(rawValue: name.isEmpty ? "dns" : name) else {
            print("ONEBZ_FUZZ_TARGET=\(name): unknown, use one of \(allCases.map(\.rawValue))")
            exit(2)
        }
        return target
    }()

    func run(_ bytes: [UInt8]) {
        switch self {
        case .dns: FuzzChecks.all(bytes)
        case .registryJSON: RegistryJSONTarget.run(bytes)
        case .doh: DoHTarget.run(bytes)
        case .jsonrpc: JSONRPCTarget.run(bytes)
        case .bindKey: BINDKeyTarget.run(bytes)
        case .tsigKey: TSIGKeyTarget.run(bytes)
        case .svcb: SVCBTarget.run(bytes)
        }
    }
}

enum FuzzChecks {
    static func all(_ bytes: [UInt8]) {
        decoder(bytes)
        queryView(bytes)
        engine(bytes)
    }

    static let apex = try! Name("1bz.")

    static let zone: Zone = {
        func name(_ text: String) -> [UInt8] { try! Name(text).wire }
        func record(_ owner: String, _ type: RRType, _ rdata: [UInt8]) -> ResourceRecord {
            ResourceRecord(name: try! Name(owner), type: type, ttl: 600, rdata: rdata)
        }
        var records = [
            record("1bz", .soa, name("ns1.1bz") + name("h.1bz") + [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 60]),
            record("1bz", .ns, name("ns1.1bz")), record("ns1.1bz", .a, [192, 0, 2, 1]),
            record("www.1bz", .a, [192, 0, 2, 80]), record("www.1bz", .aaaa, Array(repeating: 1, count: 16)),
            record("1bz", .txt, [5] + Array("hello".utf8)),
            record("child.1bz", .ns, name("ns.child.1bz")), record("ns.child.1bz", .a, [192, 0, 2, 53]),
        ]
        for index in 0..<30 { records.append(record("big.1bz", .txt, [99] + Array(repeating: UInt8(65 + index % 26), count: 99))) }
        return try! Zone(apex: apex, records: records)
    }()

    static let engine: QueryEngine = {
        var configuration = QueryEngine.Configuration(identity: "fuzz", version: "fuzz")
        configuration.cookies = .init(secret: Array(0..<16))
        return QueryEngine(zone: zone, configuration: configuration, dynamicSource: FuzzDynamicSource())
    }()

    /// A client and a time, so the cookie paths run too.
    static let context = QueryContext(client: ClientAddress([192, 0, 2, 9]), unixTime: 1_800_000_000)

    static func decoder(_ bytes: [UInt8]) {
        guard let message = try? Message(decoding: bytes), let encoded = try? message.encoded() else { return }
        guard let again = try? Message(decoding: encoded) else {
            fatalError("re-encoded message does not decode: \(bytes) -> \(encoded)")
        }
        // Compression matches names case-insensitively, so names may change case
        // (RFC 4343); the encoding must be a fixpoint after one round.
        precondition((try? again.encoded()) == encoded, "encode(decode(encode(m))) != encode(m) for \(bytes)")
        precondition(
            again.answers.count == message.answers.count && again.authorities.count == message.authorities.count
                && again.additionals.count == message.additionals.count && again.questions == message.questions
                && again.header == message.header && again.edns == message.edns,
            "re-encoding changed the message \(bytes)")
    }

    static func queryView(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            if case .success(let view) = QueryView.parse(raw) {
                precondition(view.questionEnd <= raw.count, "question ends past the message")
            }
        }
    }

    static func engine(_ bytes: [UInt8], transports: [Transport] = [.udp, .tcp]) {
        let buffer = ByteBuffer(bytes: bytes)
        let allocator = ByteBufferAllocator()
        for transport in transports {
            switch engine.respond(to: buffer, transport: transport, allocator: allocator, context: context) {
            case .response(let response):
                check(Array(response.bytes.readableBytesView), request: bytes, transport: transport)
            case .drop:
                break
            case .lookup(let pending):
                // A pending dynamic lookup: answer it with each kind of result.
                for resolved in FuzzDynamicSource.results(name: pending.name) {
                    let again = engine.respond(
                        to: buffer, transport: transport, allocator: allocator, context: context, resolved: resolved)
                    guard case .response(let response) = again else {
                        fatalError("no response to a resolved lookup for \(bytes)")
                    }
                    check(Array(response.bytes.readableBytesView), request: bytes, transport: transport)
                }
            }
        }
    }

    static func check(_ response: [UInt8], request: [UInt8], transport: Transport) {
        guard let message = try? Message(decoding: response) else {
            fatalError("undecodable response \(response) to \(request)")
        }
        precondition(message.header.isResponse, "response without QR")
        precondition(request.count >= 2 && message.header.id == UInt16(request[0]) << 8 | UInt16(request[1]), "ID not echoed")
        if transport == .udp {
            precondition(response.count <= 1232, "UDP response of \(response.count) bytes")
            if let query = try? Message(decoding: request), query.edns == nil {
                precondition(response.count <= 512, "UDP response of \(response.count) bytes without EDNS")
            }
        }
        precondition(response.count <= 65535, "response longer than a TCP frame")
    }
}

/// Dynamic names: some cached (by the name's first letter), the rest missing.
struct FuzzDynamicSource: DynamicAnswerSource {
    func cachedAnswer(wire qname: UnsafeRawBufferPointer, type: RRType) -> DynamicAnswer? {
        let name = Name(uncheckedWire: Array(qname))
        switch (qname.count > 1 ? qname[1] : 0) % 4 {
        case 0: return .noData
        case 1: return .records(name: name, [ResourceRecord(name: name, type: .a, ttl: 300, rdata: [192, 0, 2, 7])])
        default: return nil
        }
    }

    func resolve(name: Name, type: RRType) async -> DynamicAnswer { .serverFailure }

    static func results(name: Name) -> [DynamicAnswer] {
        [
            .serverFailure, .noData, .nameError,
            .records(name: name, [ResourceRecord(name: name.lowercased, type: .txt, ttl: 300, rdata: [3, 97, 61, 98])]),
        ]
    }
}
