import DNSSEC
import DNSWire
import ZoneCache

extension PreparedZone {
    /// RFC 4592 3.3.1: the answer synthesised for `name`, which does not exist, from the
    /// wildcard `*.<closest encloser>` (nil: there is none; .some(nil): it could not be
    /// signed). The records take the query name as owner; a DO=1 answer is signed for
    /// that name as it stands (online signing, as for compact denial), so a validator
    /// needs no wildcard proof. Rendered per query: this is the served zones' path,
    /// never the main zone's.
    package func wildcardAnswer(name: Name, encloser: Int, qtype: RRType, signed: Signed?) -> ResponseTemplate?? {
        let closest = zone.nodes[encloser]
        let source = closest.name.wildcard
        guard case .exact(let index) = zone.lookup(source) else { return nil }
        var plan = planner.plan(node: zone.nodes[index], qtype: qtype)
        let owner = name.lowercased
        for position in plan.answers.indices where plan.answers[position].name == source {
            plan.answers[position].name = owner
        }
        if let denial = plan.denial, denial.name == source { plan.denial = (owner, denial.types) }
        if let signed {
            guard let signedPlan = try? planner.signed(plan, signer: signed.signer, now: signed.signedAt) else {
                return .some(nil)
            }
            plan = signedPlan
        }
        return .some(plan.render(questionName: owner))
    }
}
