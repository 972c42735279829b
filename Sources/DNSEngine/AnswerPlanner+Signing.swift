import DNSSEC
import DNSWire
import ZoneCache

extension AnswerPlanner {
    /// The DO=1 form of `plan` (RFC 4035 3.1): each authoritative RRset followed by its
    /// RRSIGs; negatives with the signed SOA and the compact denial NSEC of the name
    /// (RFC 9824); glue (data at or below a zone cut) never signed. Signatures come from
    /// `memo` when it has them (one signing time: `now`).
    package func signed(
        _ plan: Plan, signer: ZoneSigner, now: UInt32, memo: inout SignatureMemo
    ) throws(DNSSECError) -> Plan {
        let timing = signer.staticTiming
        var out = plan
        out.answers = try memo.signingEach(plan.answers, signer: signer, now: now, timing: timing)
        if plan.negative {
            out.authorities = try memo.signingEach(plan.authorities, signer: signer, now: now, timing: timing)
            if let denial = plan.denial {
                out.authorities += try memo.denialRecords(
                    owner: denial.name.lowercased, types: denial.types, ttl: negativeSOA.ttl, signer: signer, now: now,
                    timing: timing)
            }
            // RFC 9824 3.2: compact denial answers NOERROR; CO restores NXDOMAIN.
            if plan.rcode == .nxDomain { out.rcode = .noError }
        }
        out.additionals = try signingAuthoritative(plan.additionals, signer: signer, now: now, memo: &memo)
        return out
    }

    /// `signed(_:signer:now:memo:)` without a memo to share (a plan made on demand).
    package func signed(_ plan: Plan, signer: ZoneSigner, now: UInt32) throws(DNSSECError) -> Plan {
        var memo = SignatureMemo()
        return try signed(plan, signer: signer, now: now, memo: &memo)
    }

    /// The DO=1 referral (RFC 4035 3.1.4): NS unsigned, then the signed DS of the cut,
    /// or the signed proof that it has none (an insecure delegation: NSEC at the cut
    /// with NS, RRSIG, NSEC). Glue stays unsigned.
    package func signedReferral(
        cut: ZoneNode, signer: ZoneSigner, now: UInt32, memo: inout SignatureMemo
    ) throws(DNSSECError) -> Plan {
        var plan = referral(cut: cut)
        let timing = signer.staticTiming
        if let ds = cut.rrsets[.ds] {
            plan.authorities += try memo.signingEach(ds, signer: signer, now: now, timing: timing)
        } else {
            plan.authorities += try memo.denialRecords(
                owner: cut.name.lowercased, types: cut.types, ttl: negativeSOA.ttl, signer: signer, now: now,
                timing: timing)
        }
        return plan
    }

    /// The SOA and its RRSIGs, position independent: the head of every signed
    /// negative whose NSEC is made per name.
    package func signedNegativeHead(
        signer: ZoneSigner, now: UInt32, memo: inout SignatureMemo
    ) throws(DNSSECError) -> Plan {
        var plan = noData()
        plan.authorities = try memo.signingEach(plan.authorities, signer: signer, now: now, timing: signer.staticTiming)
        return plan
    }

    /// Signs the RRsets this zone is authoritative for; glue and delegation NS (at or
    /// below a cut, RFC 4035 2.2) pass through unsigned.
    private func signingAuthoritative(
        _ records: [ResourceRecord], signer: ZoneSigner, now: UInt32, memo: inout SignatureMemo
    ) throws(DNSSECError) -> [ResourceRecord] {
        try memo.signingEach(records, signer: signer, now: now, timing: signer.staticTiming) { rrset in
            guard case .exact(let index) = zone.lookup(rrset[0].name) else { return false }
            return zone.nodes[index].cut == nil
        }
    }
}
