import DNSWire
import ZoneCache

/// Plans answers from zone data, in Knot's three steps (`internet.c`): the answer
/// section, then authority (SOA for negatives, NS for referrals), then additional
/// (addresses of NS/MX/SRV targets we hold). Runs at load time, not per query.
package struct AnswerPlanner: Sendable {
    package let zone: Zone

    package init(zone: Zone) { self.zone = zone }

    /// The records an answer consists of, before rendering.
    package struct Plan: Sendable {
        var rcode = Rcode.noError
        var authoritative = true
        var answers: [ResourceRecord] = []
        var authorities: [ResourceRecord] = []
        var additionals: [ResourceRecord] = []
        var additionalOptional = true
        /// The answer (or the end of its CNAME chain) is NODATA or NXDOMAIN.
        var negative = false
        /// Of a negative answer: the name whose nonexistence (or lack of the type) is
        /// proven, and the types it holds (nil: the name does not exist). For DNSSEC.
        var denial: (name: Name, types: [RRType]?)? = nil

        package func render(questionName: Name?) -> ResponseTemplate {
            ResponseTemplate(
                rcode: rcode, authoritative: authoritative, questionName: questionName, answers: answers,
                authorities: authorities, additionals: additionals, additionalOptional: additionalOptional)
        }
    }

    /// The SOA as it goes into negative answers: TTL = min(SOA TTL, MINIMUM) (RFC 2308 3).
    package var negativeSOA: ResourceRecord {
        var soa = zone.soa
        let rdata = soa.rdata
        if rdata.count >= 4 {
            let minimum = rdata[(rdata.count - 4)...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            soa.ttl = min(soa.ttl, minimum)
        }
        return soa
    }

    /// Answer for `qtype` at an authoritative node (not at or below a cut, except DS
    /// at the cut itself, which the parent answers: RFC 4035 3.1.4.1).
    package func plan(node: ZoneNode, qtype: RRType) -> Plan {
        var plan = Plan()
        solveAnswer(node: node, qtype: qtype, plan: &plan)
        solveAuthority(plan: &plan)
        solveAdditional(plan: &plan)
        return plan
    }

    /// Referral to the child at the delegation node `cut`: NS in authority, glue in
    /// additional, AA clear (RFC 1034 4.3.2 step 3b).
    package func referral(cut: ZoneNode) -> Plan {
        var plan = Plan()
        plan.authoritative = false
        plan.authorities = cut.rrsets[.ns] ?? []
        plan.additionals = glue(for: plan.authorities)
        plan.additionalOptional = false
        return plan
    }

    /// NXDOMAIN with the SOA (RFC 2308 2.1).
    package func nameError() -> Plan {
        var plan = Plan()
        plan.rcode = .nxDomain
        plan.authorities = [negativeSOA]
        return plan
    }

    /// NOERROR with the SOA: the name exists, the type does not (RFC 2308 2.2).
    package func noData() -> Plan {
        var plan = Plan()
        plan.authorities = [negativeSOA]
        return plan
    }

    /// RFC 8482 4.2: answer ANY with one RRset (the lowest type present), not all.
    package func minimalAnyType(at node: ZoneNode) -> RRType? { node.types.first }

    private func solveAnswer(node: ZoneNode, qtype: RRType, plan: inout Plan) {
        let type = qtype == .any ? minimalAnyType(at: node) : qtype
        if let type, let rrset = node.rrsets[type] {
            plan.answers = rrset
            return
        }
        guard let cname = node.rrsets[.cname]?.first else {
            plan.negative = true
            plan.denial = (node.name, node.types)
            return
        }
        // Follow CNAMEs inside the zone (RFC 1034 3.6.2), at most 8 steps.
        plan.answers = [cname]
        var target = cname.targetName
        for _ in 0..<8 {
            guard let name = target, name.isSubdomain(of: zone.apex) else { return }
            guard case .exact(let index) = zone.lookup(name) else {
                plan.rcode = .nxDomain  // RFC 6604: the rcode describes the last name
                plan.negative = true
                plan.denial = (name, nil)
                return
            }
            let next = zone.nodes[index]
            guard next.cut == nil else { return }
            if let rrset = next.rrsets[qtype] {
                plan.answers += rrset
                return
            }
            guard let again = next.rrsets[.cname]?.first else {
                plan.negative = true
                plan.denial = (next.name, next.types)
                return
            }
            plan.answers.append(again)
            target = again.targetName
        }
    }

    private func solveAuthority(plan: inout Plan) {
        // Negative answers (NODATA or NXDOMAIN, also at the end of a chain) carry the
        // SOA (RFC 2308 2.1, 2.2); positive ones stay minimal.
        if plan.negative { plan.authorities = [negativeSOA] }
    }

    private func solveAdditional(plan: inout Plan) {
        plan.additionals = glue(for: plan.answers)
    }

    /// A/AAAA of NS/MX targets held in this zone (at most once each).
    private func glue(for records: [ResourceRecord]) -> [ResourceRecord] {
        var seen = Set<Name>()
        var result: [ResourceRecord] = []
        for record in records where record.type == .ns || record.type == .mx {
            guard let target = record.targetName, seen.insert(target).inserted,
                let node = zone.node(named: target)
            else { continue }
            result += node.rrsets[.a] ?? []
            result += node.rrsets[.aaaa] ?? []
        }
        return result
    }
}
