import DNSSEC
import DNSWire
import NIOCore
import ZoneCache

/// All authoritative logic, pure: request bytes in, response bytes out (or "drop", or
/// "resolve this dynamic name first"). No I/O, no clock, no locks: an immutable value
/// shared by every thread; what changes per request (the client's address, the time,
/// a rate limiter's state) is passed in.
///
/// One answer path: every transport (the UDP fast path, TCP, DoH, DNS-JSON) plans its
/// answer here, cookies and rate limiting included, and writes the plan into its own
/// memory.
public struct QueryEngine: Sendable {
    public struct Configuration: Sendable {
        /// Answer for `id.server.`/`hostname.bind.` CH TXT; nil refuses them.
        public var identity: String?
        /// Answer for `version.bind.`/`version.server.` CH TXT; nil refuses them.
        public var version: String?
        /// Our largest UDP response (RFC 9715 / DNS flag day 2020: 1232).
        public var maxUDPPayload: Int
        /// DNS cookies (RFC 7873, RFC 9018) on every transport; nil: off (COOKIE
        /// options are ignored, as by a server without cookie support).
        package var cookies: DNSCookies.Configuration?
        /// Zones served beside the main one (`[[zones]]`); a name outside the main zone
        /// is answered by the one with the longest matching origin, else REFUSED.
        package var servedZones: [ServedZone] = []
        /// `[dnssec] denial = "nsec3"`: DO=1 negatives copy the proof from this signed
        /// NSEC3 chain (falling back to compact denial while it has none); nil: compact
        /// denial (RFC 9824).
        package var nsec3Denial: NSEC3DenialChain? = nil

        public init(identity: String? = nil, version: String? = nil, maxUDPPayload: Int = 1232) {
            self.identity = identity
            self.version = version
            self.maxUDPPayload = maxUDPPayload
        }
    }

    /// The prepared zone, swapped whole when the SOA serial follows the chain (RCU, as
    /// Knot swaps zone contents): one atomic load per query, no lock.
    private let zoneState: PreparedZoneBox
    package var prepared: PreparedZone { zoneState.current }
    public let configuration: Configuration
    public let dynamicSource: (any DynamicAnswerSource)?
    private let cookies: DNSCookies?
    private let chaos: [Name: ResponseTemplate]
    let refusal: ResponseTemplate
    /// `configuration.servedZones`, longest origin first (the first match is the answer).
    let servedZones: [ServedZone]
    private let serverFailure: ResponseTemplate
    /// SERVFAIL of the dynamic source (chain or registry unreachable): EDE 22.
    private let upstreamFailure: ResponseTemplate
    /// SERVFAIL for a DO=1 query whose answer could not be signed: EDE 0.
    let signingFailure: ResponseTemplate
    /// `configuration.nsec3Denial`.
    let nsec3Denial: NSEC3DenialChain?

    public var zone: Zone { prepared.zone }

    /// With `signer`, the zone is signed (DNSSEC, online signing) at `unixTime` and DO=1
    /// queries get signed answers; answers to queries without DO are unchanged.
    public init(
        zone: Zone, configuration: Configuration = .init(), dynamicSource: (any DynamicAnswerSource)? = nil,
        signer: ZoneSigner? = nil, unixTime: UInt32 = 0
    ) {
        zoneState = PreparedZoneBox(PreparedZone(zone: zone, signer: signer, now: unixTime))
        self.configuration = configuration
        self.dynamicSource = dynamicSource
        cookies = configuration.cookies.map(DNSCookies.init)
        chaos = Self.chaosTemplates(configuration)
        refusal = ResponseTemplate(rcode: .refused, authoritative: false, questionName: nil)
        serverFailure = ResponseTemplate(rcode: .servFail, authoritative: false, questionName: nil)
        upstreamFailure = serverFailure.with(extendedError: ExtendedDNSError.noReachableAuthority)
        signingFailure = serverFailure.with(extendedError: ExtendedDNSError.other)
        servedZones = configuration.servedZones.sorted { $0.origin.labelCount > $1.origin.labelCount }
        nsec3Denial = configuration.nsec3Denial
    }

    /// What the transport should do with a request.
    public enum Disposition: Sendable {
        case response(DNSResponse)
        /// No answer at all (not a query, too short to carry an ID, or rate-limited).
        case drop
        /// Resolve this name with `dynamicSource`, then answer again with the result
        /// (`respond(...resolving:)`, or `resolve` and `respond(...resolved:)`).
        case lookup(PendingLookup)
    }

    /// Answers one request. `resolved` carries the result of an earlier `.lookup`;
    /// `limiter` is the UDP socket's response-rate limiter (nil: not limited), asked
    /// at `nanoseconds` (monotonic) unless a valid cookie proved the source address.
    public func respond(
        to request: ByteBuffer, transport: Transport, allocator: ByteBufferAllocator, context: QueryContext = .none,
        resolved: DynamicAnswer? = nil
    ) -> Disposition {
        var noLimiter: ResponseRateLimiter? = nil
        return respond(
            to: request, transport: transport, allocator: allocator, context: context, resolved: resolved,
            limiter: &noLimiter, nanoseconds: 0)
    }

    package func respond(
        to request: ByteBuffer, transport: Transport, allocator: ByteBufferAllocator, context: QueryContext,
        resolved: DynamicAnswer?, limiter: inout ResponseRateLimiter?, nanoseconds: UInt64
    ) -> Disposition {
        request.withUnsafeReadableBytes { raw in
            switch plan(
                raw: raw, transport: transport, context: context, resolved: resolved, limiter: &limiter,
                nanoseconds: nanoseconds)
            {
            case .write(let plan):
                .response(
                    DNSResponse(bytes: plan.buffer(allocator: allocator), rcode: plan.rcode, cacheTTL: plan.cacheTTL))
            case .drop: .drop
            case .lookup(let pending): .lookup(pending)
            }
        }
    }

    /// What the UDP fast path should do with a request it answers in place.
    public enum InPlaceDisposition: Sendable {
        /// The response is the first `length` bytes of the output slot.
        case response(length: Int)
        case drop
        case lookup(PendingLookup)
    }

    /// Answers one UDP request into `output`, which must hold at least
    /// `max(512, configuration.maxUDPPayload)` bytes (the bound of every UDP response,
    /// RFC 6891 6.2.5): no allocation on the way, cookies and rate limiting included.
    public func respond(
        udp raw: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, context: QueryContext = .none
    ) -> InPlaceDisposition {
        var noLimiter: ResponseRateLimiter? = nil
        return respond(udp: raw, into: output, context: context, limiter: &noLimiter, nanoseconds: 0)
    }

    package func respond(
        udp raw: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, context: QueryContext,
        limiter: inout ResponseRateLimiter?, nanoseconds: UInt64
    ) -> InPlaceDisposition {
        let reply = plan(
            raw: raw, transport: .udp, context: context, resolved: nil, limiter: &limiter, nanoseconds: nanoseconds)
        switch reply {
        case .write(let plan): return .response(length: plan.write(into: output))
        case .drop: return .drop
        case .lookup(let pending): return .lookup(pending)
        }
    }

    /// Convenience for tests and tools: bytes in, bytes out (nil = dropped; a pending
    /// dynamic lookup is answered with `resolved` when given).
    public func respond(
        to request: [UInt8], transport: Transport, context: QueryContext = .none, resolved: DynamicAnswer? = nil
    ) -> [UInt8]? {
        let buffer = ByteBuffer(bytes: request)
        let disposition = respond(
            to: buffer, transport: transport, allocator: ByteBufferAllocator(), context: context, resolved: resolved)
        switch disposition {
        case .response(let response): return Array(response.bytes.readableBytesView)
        case .drop, .lookup: return nil
        }
    }

    private enum Reply {
        case write(ResponsePlan)
        case drop
        case lookup(PendingLookup)
    }

    /// Plans the response (the plan borrows `raw`: write it before `raw` goes away),
    /// then lets the rate limiter keep, slip or drop it.
    private func plan(
        raw: UnsafeRawBufferPointer, transport: Transport, context: QueryContext, resolved: DynamicAnswer?,
        limiter: inout ResponseRateLimiter?, nanoseconds: UInt64
    ) -> Reply {
        var verdict = DNSCookies.Verdict.none
        let reply = plan(raw: raw, transport: transport, context: context, resolved: resolved, verdict: &verdict)
        // RFC 7873 5.4: a valid server cookie proves the source address: never limited.
        guard case .write(let plan) = reply, limiter != nil, let client = context.client, !verdict.isVerified
        else { return reply }
        switch limiter!.decide(client: client, nanoseconds: nanoseconds) {
        case .send: return reply
        case .slip: return .write(plan.slipped())
        case .drop: return .drop
        }
    }

    private func plan(
        raw: UnsafeRawBufferPointer, transport: Transport, context: QueryContext, resolved: DynamicAnswer?,
        verdict: inout DNSCookies.Verdict
    ) -> Reply {
        let query: QueryView
        switch QueryView.parse(raw) {
        case .success(let view):
            query = view
        case .failure(.drop):
            return .drop
        case .failure(.formErr(let id, let flags, let questionEnd)):
            return .write(
                ResponseWriter.planError(.formErr, id: id, flags: flags, question: questionEnd.map { raw[12..<$0] }))
        case .failure(.notImp(let id, let flags, let questionEnd)):
            return .write(
                ResponseWriter.planError(.notImp, id: id, flags: flags, question: questionEnd.map { raw[12..<$0] }))
        }
        if let cookies, let edns = query.edns, !edns.cookie.isEmpty {
            verdict = cookies.evaluate(
                option: UnsafeRawBufferPointer(rebasing: raw[edns.cookie]), client: context.client,
                now: context.unixTime)
        }
        let writer = ResponseWriter(
            raw: raw, query: query, transport: transport, maxUDPPayload: configuration.maxUDPPayload,
            cookie: verdict.cookie)
        // RFC 6891 6.1.3: we speak EDNS version 0 only.
        if let edns = query.edns, edns.version > 0 {
            return .write(writer.plan(extendedError: .badVers))
        }
        // RFC 7873 5.2.2: a COOKIE option of the wrong length is FORMERR.
        if verdict == .malformed { return .write(writer.plan(extendedError: .formErr)) }
        let template: ResponseTemplate
        switch query.questionClass {
        // QCLASS ANY (RFC 1035 3.2.5) is answered exactly as IN, as Knot DNS does (AA,
        // SOA in negative answers): the zone is the only class we serve.
        case .in, .any:
            switch select(raw: raw, query: query, resolved: resolved) {
            case .template(let selected): template = selected
            case .lookup(let pending): return .lookup(pending)
            case .denied(let head, let denial, let nameError):
                // RFC 9824 3.2, 4: NOERROR unless the query set CO.
                let rcode: Rcode = nameError && query.edns?.compactOK == true ? .nxDomain : .noError
                return .write(writer.plan(head, denial: denial, rcode: rcode))
            case .proven(let head, let denial, let nameError):
                // RFC 5155 7.2.2: a name error stays NXDOMAIN.
                return .write(writer.plan(head, denial: denial, rcode: nameError ? .nxDomain : .noError))
            }
        case .ch:
            template = chaosTemplate(raw: raw, query: query)
        default:
            template = refusal
        }
        return .write(writer.plan(template))
    }

    enum Selection {
        case template(ResponseTemplate)
        case lookup(PendingLookup)
        /// DNSSEC negative with a per-name compact denial: the signed SOA, then the NSEC.
        case denied(head: ResponseTemplate, denial: SignedDenial, nameError: Bool)
        /// DNSSEC negative proven by NSEC3 records copied from the signed chain.
        case proven(head: ResponseTemplate, denial: SignedDenial, nameError: Bool)
    }

    /// Picks the pre-rendered answer for an IN query.
    @inline(__always)
    private func select(raw: UnsafeRawBufferPointer, query: QueryView, resolved: DynamicAnswer?) -> Selection {
        // Zone transfers are not offered (no secondaries configured): REFUSED, as NSD does.
        if query.questionType == .axfr || query.questionType == .ixfr { return .template(refusal) }
        let qname = UnsafeRawBufferPointer(rebasing: raw[12..<query.questionNameEnd])
        let prepared = self.prepared
        // RFC 3225 3: RRSIGs only for DO=1.
        let signed = query.edns?.dnssecOK == true ? prepared.signed : nil
        if let signed, signed.failure != nil { return .template(signingFailure) }
        switch classify(qname, in: prepared) {
        case .outOfZone:
            // Only names outside the main zone look further: its answers cost nothing more.
            return servedZones.isEmpty ? .template(refusal) : selectServed(qname, query: query)
        case .node(let index):
            if let signed {
                if let nsec3Denial, let cut = prepared.zone.nodes[index].cut,
                    !(cut == index && query.questionType == .ds),
                    let proven = provenReferral(cut: cut, prepared: prepared, chain: nsec3Denial)
                {
                    return proven
                }
                if let nsec3Denial, prepared.answersNoData(node: index, qtype: query.questionType),
                    let denial = nsec3Denial.noData(prepared.zone.nodes[index].name, type: query.questionType)
                {
                    return .proven(head: signed.negativeHead, denial: denial, nameError: false)
                }
                return .template(prepared.signedTemplate(node: index, qtype: query.questionType, signed: signed))
            }
            return .template(prepared.template(node: index, qtype: query.questionType))
        case .referral(let cut, let referral):
            if signed != nil, let nsec3Denial, let proven = provenReferral(cut: cut, prepared: prepared, chain: nsec3Denial) {
                return proven
            }
            if let signed { return .template(prepared.signedReferral(cut: cut, signed: signed) ?? signingFailure) }
            return .template(referral)
        case .nameError:
            return nameError(qname, prepared: prepared, signed: signed)
        case .nodeShaped:
            // Without a dynamic source a node name is NXDOMAIN like any other.
            guard let source = dynamicSource else { return nameError(qname, prepared: prepared, signed: signed) }
            guard let answer = resolved ?? source.cachedAnswer(wire: qname, type: query.questionType) else {
                return .lookup(PendingLookup(name: Name(uncheckedWire: Array(qname)), type: query.questionType))
            }
            if let signed {
                if let nsec3Denial, let proven = provenSelection(
                    for: answer, qname: qname, qtype: query.questionType, chain: nsec3Denial, signed: signed)
                {
                    return proven
                }
                return signedSelection(for: answer, qname: qname, prepared: prepared, signed: signed)
            }
            return .template(template(for: answer, in: prepared))
        }
    }

    /// NXDOMAIN, or for DO=1 its compact denial signed for this name.
    @inline(__always)
    func nameError(
        _ qname: UnsafeRawBufferPointer, prepared: PreparedZone, signed: PreparedZone.Signed?
    ) -> Selection {
        guard let signed else { return .template(prepared.nameError) }
        if let nsec3Denial, let denial = nsec3Denial.nameError(qname) {
            return .proven(head: signed.negativeHead, denial: denial, nameError: true)
        }
        return denied(qname, types: nil, nameError: true, prepared: prepared, signed: signed)
    }

    /// The template of a dynamic answer; negatives take the SOA of the zone served now.
    @inline(__always)
    private func template(for answer: DynamicAnswer, in prepared: PreparedZone) -> ResponseTemplate {
        switch answer {
        case .records(let template), .signedRecords(let template, _): template
        case .noData, .signedNoData: prepared.noDataAnywhere
        case .nameError, .signedNameError: prepared.nameError
        case .serverFailure: upstreamFailure
        }
    }

    /// The DO=1 answer of a dynamic name: the signed records, or the signed SOA of the
    /// zone served now with the name's cached denial (signed here only if the source
    /// had none, e.g. a name it rejected without a lookup).
    @inline(__always)
    private func signedSelection(
        for answer: DynamicAnswer, qname: UnsafeRawBufferPointer, prepared: PreparedZone, signed: PreparedZone.Signed
    ) -> Selection {
        switch answer {
        case .signedRecords(_, let signedTemplate): return .template(signedTemplate)
        case .signedNoData(let denial): return .denied(head: signed.negativeHead, denial: denial, nameError: false)
        case .signedNameError(let denial): return .denied(head: signed.negativeHead, denial: denial, nameError: true)
        case .nameError: return denied(qname, types: nil, nameError: true, prepared: prepared, signed: signed)
        case .noData: return denied(qname, types: [], nameError: false, prepared: prepared, signed: signed)
        case .serverFailure: return .template(upstreamFailure)
        // Unsigned records (the source could not sign): never served to a DO=1 query.
        case .records: return .template(signingFailure)
        }
    }

    /// `denial = "nsec3"`: a dynamic negative proven from the signed chain (nil: not a
    /// negative, or the chain cannot prove it: the source's compact denial then).
    @inline(__always)
    private func provenSelection(
        for answer: DynamicAnswer, qname: UnsafeRawBufferPointer, qtype: RRType, chain: NSEC3DenialChain,
        signed: PreparedZone.Signed
    ) -> Selection? {
        switch answer {
        case .noData, .signedNoData:
            guard let denial = chain.noData(Name(uncheckedWire: Array(qname)), type: qtype) else { return nil }
            return .proven(head: signed.negativeHead, denial: denial, nameError: false)
        case .nameError, .signedNameError:
            guard let denial = chain.nameError(qname) else { return nil }
            return .proven(head: signed.negativeHead, denial: denial, nameError: true)
        case .records, .signedRecords, .serverFailure:
            return nil
        }
    }

    /// RFC 5155 7.2.7: the referral to an insecure delegation (no DS) with the NSEC3
    /// matching the cut (its bitmap: NS, no DS); nil for a secure one (its DS and RRSIG
    /// are in the signed referral) or when the chain cannot prove it.
    private func provenReferral(cut: Int, prepared: PreparedZone, chain: NSEC3DenialChain) -> Selection? {
        let node = prepared.zone.nodes[cut]
        guard node.rrsets[.ds] == nil, let referral = prepared.referral(cut: cut),
            let denial = chain.noData(node.name, type: .ds)
        else { return nil }
        return .proven(head: referral, denial: denial, nameError: false)
    }

    /// A compact denial signed for this one name now (RFC 9824): names the static zone
    /// denies per name. One signature per query; the dynamic source caches its own.
    func denied(
        _ qname: UnsafeRawBufferPointer, types: [RRType]?, nameError: Bool, prepared: PreparedZone,
        signed: PreparedZone.Signed
    ) -> Selection {
        let owner = Name(uncheckedWire: Array(qname)).lowercased
        guard let denial = prepared.denial(owner: owner, types: types, signed: signed) else {
            return .template(signingFailure)
        }
        return .denied(head: signed.negativeHead, denial: denial, nameError: nameError)
    }

    private enum Placement {
        case outOfZone
        case node(Int)
        case referral(cut: Int, ResponseTemplate)
        case nameError
        /// One label under the apex or under `id.`: the dynamic source's, if there is one.
        case nodeShaped
    }

    /// Where a query name falls: the one classification DNS and the JSON gateway share.
    @inline(__always)
    private func classify(_ qname: UnsafeRawBufferPointer, in prepared: PreparedZone) -> Placement {
        switch prepared.zone.lookup(wire: qname) {
        case .outOfZone:
            return .outOfZone
        case .exact(let index):
            return .node(index)
        case .below(let encloser, let extraLabels):
            if let cut = prepared.zone.nodes[encloser].cut, let referral = prepared.referral(cut: cut) {
                return .referral(cut: cut, referral)
            }
            if prepared.zone.nodes[encloser].isApex, Self.isDynamicShape(qname, extraLabels: extraLabels) {
                return .nodeShaped
            }
            return .nameError
        }
    }

    /// What a name is to this server, as DNS answers it.
    public enum NameKind: Sendable, Equatable {
        /// Not at or below the apex (DNS: REFUSED).
        case outOfZone
        /// A name of the static zone, or at or below one of its delegations.
        case zoneData
        /// A node name, answered by the dynamic source.
        case dynamic
        /// Under the apex, neither static nor of a node name's shape (DNS: NXDOMAIN).
        case nonexistent
    }

    /// How DNS would classify `name` (the JSON gateway asks this before answering, so
    /// a name can never mean one thing over DNS and another over JSON). A node-shaped
    /// name is `.dynamic` even without a dynamic source (the gateway then says node
    /// lookups are not configured; DNS answers NXDOMAIN).
    public func kind(of name: Name) -> NameKind {
        name.wire.withUnsafeBytes { qname in
            switch classify(qname, in: prepared) {
            case .outOfZone: .outOfZone
            case .node, .referral: .zoneData
            case .nodeShaped: .dynamic
            case .nameError: .nonexistent
            }
        }
    }

    /// Dynamic names (docs/design.md#names-and-their-canonical-form): one label under
    /// the apex (an alias), or one label under `id.` (a node-id name), when the static
    /// zone holds neither. Deeper names are NXDOMAIN without asking the chain, except
    /// the service names below a node name (docs/dns.md#web-service-records).
    /// A node name's `_tcp` and `_PORT._tcp` names (`NodeSubname`) are the source's too.
    @inline(__always)
    private static func isDynamicShape(_ qname: UnsafeRawBufferPointer, extraLabels: Int) -> Bool {
        guard let (subname, offset) = NodeSubname.split(qname) else { return false }
        let labels = extraLabels - (subname == .node ? 0 : subname == .tcp ? 1 : 2)
        if labels == 1 { return true }
        guard labels == 2 else { return false }
        let second = offset + 1 + Int(qname[offset])
        return qname[second] == 2 && qname[second + 1] | 0x20 == UInt8(ascii: "i")
            && qname[second + 2] | 0x20 == UInt8(ascii: "d")
    }

    /// Serves `zone` from now on (every copy of this engine shares the swap). Used to
    /// move the SOA serial with the chain; the zone's names must not change meaning.
    public func replaceZone(_ zone: Zone) {
        zoneState.update { current in
            PreparedZone(zone: zone, signer: current.signed?.signer, now: current.signed?.signedAt ?? 0)
        }
    }

    /// Serves `zone` from now on, signed at `unixTime` when the zone is signed. A new
    /// serial re-signs only the SOA RRset: every other signature is reused until the
    /// keys change or the signatures are due (`resign`).
    public func replaceZone(_ zone: Zone, unixTime: UInt32) {
        zoneState.update { current in PreparedZone.renumbered(zone, from: current, now: unixTime) }
    }

    /// Re-signs the zone served now with `signer` (new keys, or nil to stop signing) at
    /// `unixTime`.
    public func resign(with signer: ZoneSigner?, unixTime: UInt32) {
        zoneState.update { current in PreparedZone(zone: current.baseZone, signer: signer, now: unixTime) }
    }

    /// When the served signatures must be renewed (nil: the zone is not signed).
    public var signatureRefreshTime: UInt32? { prepared.signed?.refreshAt }

    /// Why signing the zone served now failed (nil: it did not); DO=1 queries get
    /// SERVFAIL with EDE 0 meanwhile.
    public var signingFailureReason: String? { prepared.signed?.failure }

    /// The signer of the zone served now (nil: unsigned).
    public var signer: ZoneSigner? { prepared.signed?.signer }

    private func chaosTemplate(raw: UnsafeRawBufferPointer, query: QueryView) -> ResponseTemplate {
        guard query.questionType == .txt || query.questionType == .any else { return refusal }
        let name = Name(uncheckedWire: Array(raw[12..<query.questionNameEnd]))
        return chaos[name] ?? refusal
    }

    private static func chaosTemplates(_ configuration: Configuration) -> [Name: ResponseTemplate] {
        var result: [Name: ResponseTemplate] = [:]
        let entries: [(String, String?)] = [
            ("version.bind.", configuration.version), ("version.server.", configuration.version),
            ("id.server.", configuration.identity), ("hostname.bind.", configuration.identity),
        ]
        for case (let text, let value?) in entries {
            guard let name = try? Name(text) else { continue }
            let record = ResourceRecord(name: name, type: .txt, rrClass: .ch, ttl: 0, rdata: txtRDATA(value))
            result[name] = ResponseTemplate(authoritative: true, questionName: name, answers: [record])
        }
        return result
    }

    /// TXT RDATA: the text as <character-string>s of at most 255 octets (RFC 1035 3.3.14).
    public static func txtRDATA(_ text: String) -> [UInt8] {
        var bytes = Array(text.utf8)[...]
        var rdata: [UInt8] = []
        repeat {
            let chunk = bytes.prefix(255)
            rdata.append(UInt8(chunk.count))
            rdata += chunk
            bytes = bytes.dropFirst(chunk.count)
        } while !bytes.isEmpty
        return rdata
    }
}

/// A written response, with what its plan knew: the rcode and how long it may be
/// cached (RFC 8484 5.1), so HTTP transports need not decode the engine's own bytes.
public struct DNSResponse: Sendable {
    public let bytes: ByteBuffer
    public let rcode: Rcode
    public let cacheTTL: UInt32
}
