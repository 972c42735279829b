import DNSWire
import Foundation
import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// Where a 1bz node's web site is and which key it must prove, all from validated answers.
struct NodeSite: Sendable, Equatable {
    var name: String
    /// Addresses in presentation form, IPv4 first (from A/AAAA).
    var addresses: [String]
    /// From the HTTPS record's `port=`, else 443.
    var port: Int
    /// SHA-256 digests of the SubjectPublicKeyInfo from `_PORT._tcp.NAME TLSA 3 1 1`;
    /// empty: the zone proves there is no TLSA.
    var spkiSHA256: [[UInt8]]
}

/// What resolving a node's name gave.
enum NodeResolution: Sendable, Equatable {
    case site(NodeSite)
    /// The zone proves the name does not exist.
    case notFound
    /// Some answer did not validate (bogus or insecure): nothing of it is used.
    case unvalidated(String)
    /// The resolver could not get an answer (the forwarder is down, SERVFAIL).
    case unavailable(String)
}

/// Resolves NAME.1bz to a `NodeSite` (HTTPS, then TLSA, A and AAAA concurrently), every
/// answer validated, and caches the result for the smallest TTL among the answers, so a
/// node that changes its key or address is followed within one TTL. Concurrent requests
/// for one name share one resolution.
final class NodeDirectory: Sendable {
    private let lookup: ValidatedLookup
    private let entries = NIOLockedValueBox([String: Entry]())
    private let resolutions: Counter
    private let cacheHits: Counter
    private let maxEntries = 100_000

    private struct Entry {
        var task: Task<(NodeResolution, Int), Never>
        var expires: NIODeadline?
    }

    init(lookup: ValidatedLookup) {
        self.lookup = lookup
        resolutions = Counter(label: "onebz_web_resolutions_total")
        cacheHits = Counter(label: "onebz_web_resolution_cache_hits_total")
    }

    func resolve(_ name: String) async -> NodeResolution {
        let now = NIODeadline.now()
        let (task, hit): (Task<(NodeResolution, Int), Never>, Bool) = entries.withLockedValue { entries in
            if let entry = entries[name], entry.expires.map({ $0 > now }) ?? true { return (entry.task, true) }
            if entries.count >= maxEntries { entries.removeAll() }
            let lookup = self.lookup
            let task = Task { await Self.resolveUncached(name, lookup: lookup) }
            entries[name] = Entry(task: task, expires: nil)
            return (task, false)
        }
        if hit {
            cacheHits.increment()
        } else {
            resolutions.increment()
        }
        let (resolution, ttl) = await task.value
        if !hit {
            entries.withLockedValue { entries in
                // Failures are not kept: the next request asks again (libunbound keeps its own
                // short cache of bogus answers).
                if ttl > 0, case .site = resolution {
                    entries[name]?.expires = .now() + .seconds(Int64(ttl))
                } else if ttl > 0, case .notFound = resolution {
                    entries[name]?.expires = .now() + .seconds(Int64(ttl))
                } else {
                    entries[name] = nil
                }
            }
        }
        return resolution
    }

    private static let typeA: Int32 = 1
    private static let typeAAAA: Int32 = 28
    private static let typeTLSA: Int32 = 52
    private static let typeHTTPS: Int32 = 65

    /// (resolution, seconds it may be kept).
    private static func resolveUncached(_ name: String, lookup: ValidatedLookup) async -> (NodeResolution, Int) {
        do {
            let https = try await lookup.resolve(name, type: typeHTTPS)
            if let problem = problem(https, "\(name) HTTPS") { return (problem, 0) }
            if https.nxdomain { return (.notFound, https.ttl) }
            var port = 443
            for rdata in https.rdata {
                guard let record = try? SVCBRDATA(parsing: rdata), record.priority > 0 else { continue }
                if let value = record.params.first(where: { $0.key == .port })?.value, value.count == 2 {
                    port = Int(value[0]) << 8 | Int(value[1])
                }
                break
            }
            async let tlsaAnswer = lookup.resolve("_\(port)._tcp.\(name)", type: typeTLSA)
            async let aAnswer = lookup.resolve(name, type: typeA)
            async let aaaaAnswer = lookup.resolve(name, type: typeAAAA)
            let (tlsa, a, aaaa) = try await (tlsaAnswer, aAnswer, aaaaAnswer)
            if let problem = problem(tlsa, "_\(port)._tcp.\(name) TLSA") ?? problem(a, "\(name) A")
                ?? problem(aaaa, "\(name) AAAA")
            {
                return (problem, 0)
            }
            let digests = tlsa.rdata.compactMap { rdata -> [UInt8]? in
                // DANE-EE (3), SubjectPublicKeyInfo (1), SHA-256 (1): the only form onebzd publishes.
                guard rdata.count == 35, rdata[0] == 3, rdata[1] == 1, rdata[2] == 1 else { return nil }
                return Array(rdata[3...])
            }
            let v4 = a.rdata.filter { $0.count == 4 }.map { $0.map(String.init).joined(separator: ".") }
            let v6 = aaaa.rdata.filter { $0.count == 16 }.compactMap(Self.ipv6)
            let ttl = [https.ttl, tlsa.ttl, a.ttl, aaaa.ttl].min() ?? 0
            // onebzd denies a nonexistent name to a validating resolver with compact denial
            // (RFC 9824: NOERROR, NXNAME in the NSEC bitmap), which libunbound reports as
            // NODATA: a name with no record of any of these types is no node.
            if https.rdata.isEmpty && v4.isEmpty && v6.isEmpty && digests.isEmpty { return (.notFound, ttl) }
            return (.site(NodeSite(name: name, addresses: v4 + v6, port: port, spkiSHA256: digests)), ttl)
        } catch {
            return (.unavailable("\(error)"), 0)
        }
    }

    /// Nil when the answer can be used: validated, and not a resolver failure.
    private static func problem(_ answer: ValidatedAnswer, _ what: String) -> NodeResolution? {
        switch answer.verdict {
        case .bogus(let why): return .unvalidated("\(what): \(why)")
        case .insecure:
            // No verdict at all: the forwarder did not answer (SERVFAIL from the resolver).
            if answer.rcode == 2 { return .unavailable("\(what): no answer from the resolver (SERVFAIL)") }
            return .unvalidated("\(what): the answer is not signed (insecure)")
        case .secure:
            guard answer.rcode == 0 || answer.rcode == 3 else {
                return .unavailable("\(what): rcode \(answer.rcode)")
            }
            return nil
        }
    }

    static func ipv6(_ bytes: [UInt8]) -> String? {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
