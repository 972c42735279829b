import Atomics
import DNSSEC
import DNSWire
import ZoneCache

/// The zone with every answer it can give rendered ahead of time: per node, one
/// template per type present, one NODATA, one minimal ANY; per delegation, one referral;
/// one NXDOMAIN. The query path picks a template and patches it.
///
/// With DNSSEC, the same again with RRSIGs (and compact denial NSECs) for DO=1 queries,
/// signed once here (each RRset once); DNSKEY, CDS and CDNSKEY join the apex.
/// Re-prepared when the serial moves (`renumbered`: every signature but the new SOA's
/// is reused), the keys change or the signatures near their refresh time (signed anew).
///
/// A class (immutable, so Sendable): the query path takes one reference to the current
/// snapshot per query; a struct this size would be copied, retaining every array in it.
package final class PreparedZone: Sendable {
    /// The zone as served (with the DNSKEY RRset when signed).
    package let zone: Zone
    /// The zone as given (what a new serial or a re-signing starts from).
    package let baseZone: Zone
    package let planner: AnswerPlanner
    private let unsigned: Templates
    /// DO=1 answers; nil when the zone is not signed.
    package let signed: Signed?

    package struct Templates: Sendable {
        /// Per node: templates for the types it holds (rendered for the node's name).
        let answers: [[RRType: ResponseTemplate]]
        let noData: [ResponseTemplate]
        let minimalAny: [ResponseTemplate]
        /// Per node that is a delegation point; position independent (used for every
        /// name at or below the cut).
        let referrals: [Int: ResponseTemplate]
        /// Position independent, fits any name.
        let nameError: ResponseTemplate
        /// NODATA for a name the zone does not hold (a dynamic name without records
        /// of the asked type): position independent.
        let noDataAnywhere: ResponseTemplate
    }

    /// What signing needs at query time.
    package struct Signed: Sendable {
        let templates: Templates
        package let signer: ZoneSigner
        /// When the signatures were made (the time every signature of this snapshot,
        /// and every per-name denial made from it, takes as "now").
        package let signedAt: UInt32
        /// When this snapshot must be re-signed (RFC 4641bis style refresh).
        package let refreshAt: UInt32
        /// SOA and RRSIG(SOA), position independent: the head of per-name negatives.
        let negativeHead: ResponseTemplate
        /// Set when signing failed: DO=1 queries get SERVFAIL rather than unsigned data.
        let failure: String?
        /// The TTL of the per-name denials' NSEC (the SOA minimum).
        let negativeTTL: UInt32
        /// Per-name denials signed at `signedAt` (static names denied per name); kept by
        /// a renumbered snapshot (same signer, time and negative TTL).
        let denials: DenialCache
        /// Every RRSIG of the templates, by RRset: what a renumbered snapshot reuses.
        let memo: SignatureMemo
        /// RRSIGs this snapshot made (the others came from the snapshot it renumbered).
        package let signaturesMade: Int
    }

    package var nameError: ResponseTemplate { unsigned.nameError }
    package var noDataAnywhere: ResponseTemplate { unsigned.noDataAnywhere }

    package convenience init(zone: Zone) {
        self.init(zone: zone, signer: nil, now: 0)
    }

    package convenience init(zone base: Zone, signer: ZoneSigner?, now: UInt32) {
        self.init(zone: base, signer: signer, now: now, reusing: nil)
    }

    /// `base` (a new serial of the zone `previous` serves) prepared with `previous`'s
    /// signer and signing time, reusing its signatures: only RRsets that differ (the SOA
    /// with its new serial) are signed. Signed anew at `now` when `previous` is
    /// unsigned, failed, or its signatures are due (`now` at or past `refreshAt`).
    package static func renumbered(_ base: Zone, from previous: PreparedZone, now: UInt32) -> PreparedZone {
        guard let signed = previous.signed, signed.failure == nil, now < signed.refreshAt else {
            return PreparedZone(zone: base, signer: previous.signed?.signer, now: now)
        }
        return PreparedZone(zone: base, signer: signed.signer, now: signed.signedAt, reusing: signed)
    }

    private init(zone base: Zone, signer: ZoneSigner?, now: UInt32, reusing previous: Signed?) {
        let zone = signer.map { Self.publishingKeys(base, signer: $0) } ?? base
        let planner = AnswerPlanner(zone: zone)
        self.baseZone = base
        self.zone = zone
        self.planner = planner
        unsigned = Self.templates(zone: zone, planner: planner) { plan, _ in plan }
        guard let signer else {
            signed = nil
            return
        }
        var failure: String? = nil
        var memo = SignatureMemo(reusing: previous?.memo)
        let templates = Self.templates(zone: zone, planner: planner) { plan, cut in
            do throws(DNSSECError) {
                if let cut { return try planner.signedReferral(cut: cut, signer: signer, now: now, memo: &memo) }
                return try planner.signed(plan, signer: signer, now: now, memo: &memo)
            } catch {
                failure = error.description
                return plan
            }
        }
        var head = planner.noData().render(questionName: nil)
        do throws(DNSSECError) {
            head = try planner.signedNegativeHead(signer: signer, now: now, memo: &memo).render(questionName: nil)
        } catch {
            failure = error.description
        }
        let sameDenials = previous.map { $0.negativeTTL == planner.negativeSOA.ttl } ?? false
        signed = Signed(
            templates: templates, signer: signer, signedAt: now,
            refreshAt: signer.refreshDeadline(signedAt: now, timing: signer.staticTiming), negativeHead: head,
            failure: failure, negativeTTL: planner.negativeSOA.ttl,
            denials: sameDenials ? previous?.denials ?? DenialCache() : DenialCache(), memo: memo.settled(),
            signaturesMade: memo.made)
    }

    /// Renders every template, passing each plan through `transform` (the referral's
    /// plan with its cut node).
    private static func templates(
        zone: Zone, planner: AnswerPlanner, _ transform: (AnswerPlanner.Plan, ZoneNode?) -> AnswerPlanner.Plan
    ) -> Templates {
        var answers: [[RRType: ResponseTemplate]] = []
        var noData: [ResponseTemplate] = []
        var minimalAny: [ResponseTemplate] = []
        var referrals: [Int: ResponseTemplate] = [:]
        for (index, node) in zone.nodes.enumerated() {
            let owner = node.name.lowercased
            var byType: [RRType: ResponseTemplate] = [:]
            for type in node.types {
                byType[type] = transform(planner.plan(node: node, qtype: type), nil).render(questionName: owner)
            }
            // A CNAME node answers every other type with the CNAME chain.
            if node.rrsets[.cname] != nil {
                for type in [RRType.a, .aaaa, .txt, .mx, .ns, .srv, .caa, .ds] where byType[type] == nil {
                    byType[type] = transform(planner.plan(node: node, qtype: type), nil).render(questionName: owner)
                }
            }
            answers.append(byType)
            noData.append(transform(planner.plan(node: node, qtype: RRType(0)), nil).render(questionName: owner))
            minimalAny.append(transform(planner.plan(node: node, qtype: .any), nil).render(questionName: owner))
            if node.isDelegation {
                referrals[index] = transform(planner.referral(cut: node), node).render(questionName: nil)
            }
        }
        return Templates(
            answers: answers, noData: noData, minimalAny: minimalAny, referrals: referrals,
            nameError: planner.nameError().render(questionName: nil),
            noDataAnywhere: planner.noData().render(questionName: nil))
    }

    /// The zone with the DNSKEY RRset (and CDS/CDNSKEY, RFC 7344) at the apex.
    private static func publishingKeys(_ zone: Zone, signer: ZoneSigner) -> Zone {
        var records: [ResourceRecord] = []
        for node in zone.nodes {
            for type in node.types where type != .dnskey && type != .cds && type != .cdnskey {
                records += node.rrsets[type] ?? []
            }
        }
        records += signer.dnskeyRecords + signer.childSyncRecords
        return (try? Zone(apex: zone.apex, records: records, source: "signed \(zone.apex)")) ?? zone
    }

    /// The template for `qtype` at an existing node (index into `zone.nodes`).
    @inline(__always)
    package func template(node index: Int, qtype: RRType) -> ResponseTemplate {
        template(node: index, qtype: qtype, in: unsigned, signer: nil, now: 0)
    }

    /// The DO=1 template for `qtype` at an existing node (only when `signed` is set).
    @inline(__always)
    package func signedTemplate(node index: Int, qtype: RRType, signed: Signed) -> ResponseTemplate {
        template(node: index, qtype: qtype, in: signed.templates, signer: signed.signer, now: signed.signedAt)
    }

    @inline(__always)
    private func template(
        node index: Int, qtype: RRType, in templates: Templates, signer: ZoneSigner?, now: UInt32
    ) -> ResponseTemplate {
        if let cut = zone.nodes[index].cut, !(cut == index && qtype == .ds), let referral = templates.referrals[cut] {
            return referral
        }
        if qtype == .any { return templates.minimalAny[index] }
        if let template = templates.answers[index][qtype] { return template }
        let node = zone.nodes[index]
        if node.rrsets[.cname] != nil {
            // Rare types at a CNAME: plan on demand rather than for all 65536 types.
            var plan = planner.plan(node: node, qtype: qtype)
            if let signer, let signed = try? planner.signed(plan, signer: signer, now: now) { plan = signed }
            return plan.render(questionName: node.name.lowercased)
        }
        return templates.noData[index]
    }

    /// Whether `template(node:qtype:)` is the node's NODATA: no RRset of `qtype`, no
    /// CNAME, not ANY, and not below a cut (a DS at the cut itself is the parent's).
    @inline(__always)
    package func answersNoData(node index: Int, qtype: RRType) -> Bool {
        let node = zone.nodes[index]
        if let cut = node.cut, !(cut == index && qtype == .ds) { return false }
        return qtype != .any && unsigned.answers[index][qtype] == nil && node.rrsets[.cname] == nil
    }

    /// The referral for names below the delegation point `cut`.
    package func referral(cut: Int) -> ResponseTemplate? { unsigned.referrals[cut] }

    /// The DO=1 referral for names below `cut`.
    package func signedReferral(cut: Int, signed: Signed) -> ResponseTemplate? { signed.templates.referrals[cut] }

    /// The compact denial of `owner` (lowercase wire bytes of the query name) made at
    /// this snapshot's signing time: for names the zone answers negatively per name.
    package func denial(owner: Name, types: [RRType]?, signed: Signed) -> SignedDenial? {
        let make = { () -> SignedDenial? in
            guard
                let records = try? signed.signer.denialRecords(
                    owner: owner, types: types, ttl: self.planner.negativeSOA.ttl, now: signed.signedAt,
                    timing: signed.signer.staticTiming, place: .denial)
            else { return nil }
            return SignedDenial(records: records)
        }
        // Only nonexistent names are cached: the bitmap of a name that exists depends on
        // the answer that named it (a dynamic source's NODATA without its own denial).
        return types == nil ? signed.denials.denial(for: owner, make: make) : make()
    }

    /// How many per-name denials this snapshot holds (tests, metrics).
    package var cachedDenials: Int { signed?.denials.count ?? 0 }
}

extension PreparedZone: AtomicReference {}
