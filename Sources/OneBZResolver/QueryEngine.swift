import DNSWire
import NIOCore
import ZoneCache

/// All authoritative logic, pure: request bytes in, response bytes out (or "drop", or
/// "resolve this dynamic name first"). No I/O, no clock, no locks: an immutable value
/// shared by every event loop.
public struct QueryEngine: Sendable {
    public struct Configuration: Sendable {
        /// Answer for `id.server.`/`hostname.bind.` CH TXT; nil refuses them.
        public var identity: String?
        /// Answer for `version.bind.`/`version.server.` CH TXT; nil refuses them.
        public var version: String?
        /// Our largest UDP response (RFC 9715 / DNS flag day 2020: 1232).
        public var maxUDPPayload: Int

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
    private let chaos: [Name: ResponseTemplate]
    private let refusal: ResponseTemplate

    public var zone: Zone { prepared.zone }

    public init(zone: Zone, configuration: Configuration = .init(), dynamicSource: (any DynamicAnswerSource)? = nil) {
        zoneState = PreparedZoneBox(PreparedZone(zone: zone))
        self.configuration = configuration
        self.dynamicSource = dynamicSource
        chaos = Self.chaosTemplates(configuration)
        refusal = ResponseTemplate(rcode: .refused, authoritative: false, questionName: nil)
    }

    /// What the transport should do with a request.
    public enum Disposition: Sendable {
        case response(ByteBuffer)
        /// No answer at all (not a query, or too short to carry an ID).
        case drop
        /// Resolve this name with `dynamicSource`, then call `respond` again with `resolved`.
        case lookup(PendingLookup)
    }

    /// Answers one request. `resolved` carries the result of an earlier `.lookup`.
    public func respond(
        to request: ByteBuffer, transport: Transport, allocator: ByteBufferAllocator,
        resolved: DynamicAnswer? = nil
    ) -> Disposition {
        request.withUnsafeReadableBytes { raw in
            switch plan(raw: raw, transport: transport, resolved: resolved) {
            case .write(let plan): .response(plan.buffer(allocator: allocator))
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
    /// RFC 6891 6.2.5): no allocation on the way.
    public func respond(udp raw: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer)
        -> InPlaceDisposition
    {
        switch plan(raw: raw, transport: .udp, resolved: nil) {
        case .write(let plan): .response(length: plan.write(into: output))
        case .drop: .drop
        case .lookup(let pending): .lookup(pending)
        }
    }

    /// Convenience for tests and tools: bytes in, bytes out (nil = dropped; a pending
    /// dynamic lookup is resolved synchronously with `resolved` when given).
    public func respond(to request: [UInt8], transport: Transport, resolved: DynamicAnswer? = nil) -> [UInt8]? {
        let buffer = ByteBuffer(bytes: request)
        switch respond(to: buffer, transport: transport, allocator: ByteBufferAllocator(), resolved: resolved) {
        case .response(let response): return Array(response.readableBytesView)
        case .drop, .lookup: return nil
        }
    }

    private enum Reply {
        case write(ResponsePlan)
        case drop
        case lookup(PendingLookup)
    }

    /// Plans the response (the plan borrows `raw`: write it before `raw` goes away).
    private func plan(raw: UnsafeRawBufferPointer, transport: Transport, resolved: DynamicAnswer?) -> Reply {
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
        let writer = ResponseWriter(
            raw: raw, query: query, transport: transport, maxUDPPayload: configuration.maxUDPPayload)
        // RFC 6891 6.1.3: we speak EDNS version 0 only.
        if let edns = query.edns, edns.version > 0 {
            return .write(writer.plan(extendedError: .badVers))
        }
        let template: ResponseTemplate
        switch query.questionClass {
        case .in:
            switch select(raw: raw, query: query, resolved: resolved) {
            case .template(let selected): template = selected
            case .lookup(let pending): return .lookup(pending)
            }
        case .ch:
            template = chaosTemplate(raw: raw, query: query)
        default:
            template = refusal
        }
        return .write(writer.plan(template))
    }

    private enum Selection {
        case template(ResponseTemplate)
        case lookup(PendingLookup)
    }

    /// Picks the pre-rendered answer for an IN query.
    @inline(__always)
    private func select(raw: UnsafeRawBufferPointer, query: QueryView, resolved: DynamicAnswer?) -> Selection {
        // Zone transfers are not offered (no secondaries configured): REFUSED, as NSD does.
        if query.questionType == .axfr || query.questionType == .ixfr { return .template(refusal) }
        let qname = UnsafeRawBufferPointer(rebasing: raw[12..<query.questionNameEnd])
        let prepared = self.prepared
        switch prepared.zone.lookup(wire: qname) {
        case .outOfZone:
            return .template(refusal)
        case .exact(let index):
            return .template(prepared.template(node: index, qtype: query.questionType))
        case .below(let encloser, let extraLabels):
            if let cut = prepared.zone.nodes[encloser].cut, let referral = prepared.referral(cut: cut) {
                return .template(referral)
            }
            if prepared.zone.nodes[encloser].isApex, let source = dynamicSource,
                Self.isDynamicShape(qname, extraLabels: extraLabels)
            {
                if let resolved { return .template(resolved.template) }
                switch source.cachedAnswer(wire: qname, type: query.questionType) {
                case .hit(let answer): return .template(answer.template)
                case .miss:
                    return .lookup(PendingLookup(name: Name(uncheckedWire: Array(qname)), type: query.questionType))
                }
            }
            return .template(prepared.nameError)
        }
    }

    /// Dynamic names (DESIGN.md, Identity and names): one label under the apex (an
    /// alias), or one label under `id.` (a node-id name), when the static zone holds
    /// neither. Deeper names are NXDOMAIN without asking the chain.
    @inline(__always)
    private static func isDynamicShape(_ qname: UnsafeRawBufferPointer, extraLabels: Int) -> Bool {
        if extraLabels == 1 { return true }
        guard extraLabels == 2 else { return false }
        let second = 1 + Int(qname[0])
        return qname[second] == 2 && qname[second + 1] | 0x20 == UInt8(ascii: "i")
            && qname[second + 2] | 0x20 == UInt8(ascii: "d")
    }

    /// Serves `zone` from now on (every copy of this engine shares the swap). Used to
    /// move the SOA serial with the chain; the zone's names must not change meaning.
    public func replaceZone(_ zone: Zone) {
        zoneState.replace(with: PreparedZone(zone: zone))
    }

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
    package static func txtRDATA(_ text: String) -> [UInt8] {
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

extension QueryEngine {
    /// A positive dynamic answer for `name` (as stored, any case) with `records` in the
    /// answer section, authoritative.
    public func dynamicAnswer(name: Name, records: [ResourceRecord]) -> DynamicAnswer {
        guard !records.isEmpty else { return dynamicNoData() }
        return DynamicAnswer(
            template: ResponseTemplate(authoritative: true, questionName: name.lowercased, answers: records))
    }

    /// The name exists but has no records of the asked type: NOERROR with the SOA.
    public func dynamicNoData() -> DynamicAnswer {
        DynamicAnswer(
            template: ResponseTemplate(
                authoritative: true, questionName: nil, authorities: [prepared.planner.negativeSOA]))
    }

    /// The name does not exist: NXDOMAIN with the SOA.
    public func dynamicNameError() -> DynamicAnswer { DynamicAnswer(template: prepared.nameError) }
}
