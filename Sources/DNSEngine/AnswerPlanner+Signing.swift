import DNSSEC
import DNSWire
import ZoneCache

extension AnswerPlanner {
    /// The DO=1 form of `plan` (RFC 4035 3.1): each authoritative RRset followed by its
    /// RRSIGs; negatives with the signed SOA and the compact denial NSEC of the name
    /// (RFC 9824); glue (data at or below a zone cut) never signed.
    package func signed(_ plan: Plan, signer: ZoneSigner, now: UInt32) throws(DNSSECError) -> Plan {
        let timing = signer.staticTiming
        var out = plan
        out.answers = try signer.signingEach(plan.answers, now: now, timing: timing)
        if plan.negative {
            out.authorities = try signer.signingEach(plan.authorities, now: now, timing: timing)
            if let denial = plan.denial {
                out.authorities += try signer.denialRecords(
                    owner: denial.name.lowercased, types: denial.types, ttl: negativeSOA.ttl, now: now, timing: timing)
            }
            // RFC 9824 3.2: compact denial answers NOERROR; CO restores NXDOMAIN.
            if plan.rcode == .nxDomain { out.rcode = .noError }
        }
        out.additionals = try signingAuthoritative(plan.additionals, signer: signer, now: now)
        return out
    }

    /// The DO=1 referral (RFC 4035 3.1.4): NS unsigned, then the signed DS of the cut,
    /// or the signed proof that it has none (an insecure delegation: NSEC at the cut
    /// with NS, RRSIG, NSEC). Glue stays unsigned.
    package func signedReferral(cut: ZoneNode, signer: ZoneSigner, now: UInt32) throws(DNSSECError) -> Plan {
        var plan = referral(cut: cut)
        let timing = signer.staticTiming
        if let ds = cut.rrsets[.ds] {
            plan.authorities += try signer.signingEach(ds, now: now, timing: timing)
        } else {
            plan.authorities += try signer.denialRecords(
                owner: cut.name.lowercased, types: cut.types, ttl: negativeSOA.ttl, now: now, timing: timing)
        }
        return plan
    }

    /// The SOA and its RRSIGs, position independent: the head of every signed
    /// negative whose NSEC is made per name.
    package func signedNegativeHead(signer: ZoneSigner, now: UInt32) throws(DNSSECError) -> Plan {
        var plan = noData()
        plan.authorities = try signer.signingEach(plan.authorities, now: now, timing: signer.staticTiming)
        return plan
    }

    /// Signs the RRsets this zone is authoritative for; glue and delegation NS (at or
    /// below a cut, RFC 4035 2.2) pass through unsigned.
    private func signingAuthoritative(
        _ records: [ResourceRecord], signer: ZoneSigner, now: UInt32
    ) throws(DNSSECError) -> [ResourceRecord] {
        try signer.signingEach(records, now: now, timing: signer.staticTiming) { rrset in
            guard case .exact(let index) = zone.lookup(rrset[0].name) else { return false }
            return zone.nodes[index].cut == nil
        }
    }
}
