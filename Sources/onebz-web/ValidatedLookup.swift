import CUnbound
import Foundation
import NIOPosix

/// One RRset as libunbound returned it, with its DNSSEC verdict.
struct ValidatedAnswer: Sendable {
    enum Verdict: Sendable, Equatable {
        /// The chain of trust from the anchor holds (`secure`).
        case secure
        /// A signature or a denial did not check out (`bogus`), and why.
        case bogus(String)
        /// No signatures where the anchor says there must be none (`insecure`): not trusted either.
        case insecure
    }

    var verdict: Verdict
    /// RDATA of each record (empty for NODATA and NXDOMAIN).
    var rdata: [[UInt8]]
    var nxdomain: Bool
    /// DNS rcode (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN).
    var rcode: Int
    /// Seconds the answer may be cached (the records' TTL, or the negative TTL).
    var ttl: Int
}

/// A failure of the resolver itself (not of validation).
struct ResolverError: Error, CustomStringConvertible {
    let description: String
}

/// The validating resolver: a libunbound context that forwards every query to onebzd (or
/// any 1bz secondary) and validates from the 1bz trust anchor alone. Nothing else is
/// asked: no root hints, no resolv.conf, no hosts file, so no query leaves for the
/// internet. `ub_resolve` blocks; calls run on a small thread pool of their own so the
/// event loops never wait (libunbound's contexts are thread-safe, and share one cache).
final class ValidatedLookup: @unchecked Sendable {
    // @unchecked: `context` is only passed to libunbound, which locks it itself; it is
    // fully configured in init before any query (after the first query it is final).
    private let context: OpaquePointer
    private let pool: NIOThreadPool

    /// `forwarder`: `ADDRESS@PORT`. `trustAnchorFile`: DS or DNSKEY records of `1bz.`
    /// in zone-file format.
    init(forwarder: String, trustAnchorFile: String, threads: Int) throws {
        guard let context = ub_ctx_create() else { throw ResolverError(description: "ub_ctx_create failed") }
        self.context = context
        func check(_ status: Int32, _ what: String) throws {
            guard status == 0 else {
                throw ResolverError(description: "\(what): \(String(cString: ub_strerror(status)))")
            }
        }
        do {
            // The forwarder is on loopback (unbound refuses to ask 127.0.0.0/8 by default).
            try check(ub_ctx_set_option(context, "do-not-query-localhost:", "no"), "do-not-query-localhost")
            // RFC 8145 key-tag queries and the root key sentinel would only reach the forwarder;
            // turned off so that every query is one the gateway asked for.
            try check(ub_ctx_set_option(context, "trust-anchor-signaling:", "no"), "trust-anchor-signaling")
            try check(ub_ctx_set_option(context, "root-key-sentinel:", "no"), "root-key-sentinel")
            try check(ub_ctx_set_option(context, "val-log-level:", "2"), "val-log-level")
            try check(ub_ctx_set_fwd(context, forwarder), "resolver \(forwarder)")
            try check(ub_ctx_add_ta_file(context, trustAnchorFile), "trust anchor \(trustAnchorFile)")
        } catch {
            ub_ctx_delete(context)
            throw error
        }
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    deinit {
        try? pool.syncShutdownGracefully()
        ub_ctx_delete(context)
    }

    /// Resolves `name`/`type` (class IN) on the pool.
    func resolve(_ name: String, type: Int32) async throws -> ValidatedAnswer {
        let context = UncheckedContext(pointer: self.context)
        return try await pool.runIfActive {
            var result: UnsafeMutablePointer<ub_result>?
            let status = ub_resolve(context.pointer, name, type, 1, &result)
            guard status == 0, let result else {
                throw ResolverError(description: "resolving \(name): \(String(cString: ub_strerror(status)))")
            }
            defer { ub_resolve_free(result) }
            return Self.answer(result.pointee)
        }
    }

    private struct UncheckedContext: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private static func answer(_ result: ub_result) -> ValidatedAnswer {
        var rdata: [[UInt8]] = []
        if result.havedata != 0, let data = result.data, let lengths = result.len {
            var index = 0
            while let record = data[index] {
                let count = Int(lengths[index])
                rdata.append(Array(UnsafeRawBufferPointer(start: record, count: count)))
                index += 1
            }
        }
        let verdict: ValidatedAnswer.Verdict =
            if result.secure != 0 {
                .secure
            } else if result.bogus != 0 {
                .bogus(result.why_bogus.map { String(cString: $0) } ?? "the answer did not validate")
            } else {
                .insecure
            }
        return ValidatedAnswer(
            verdict: verdict, rdata: rdata, nxdomain: result.nxdomain != 0, rcode: Int(result.rcode),
            ttl: Int(max(0, result.ttl)))
    }
}
