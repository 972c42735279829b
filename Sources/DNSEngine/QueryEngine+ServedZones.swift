import DNSWire
import ZoneCache

extension QueryEngine {
    /// The answer of a name outside the main zone: from the served zone with the
    /// longest origin at or above it (RFC 1034 4.3.2 step 2), else REFUSED. Static data
    /// only: no dynamic names; wildcards per RFC 4592.
    func selectServed(_ qname: UnsafeRawBufferPointer, query: QueryView) -> Selection {
        for served in servedZones {
            let prepared = served.prepared
            let placement = prepared.zone.lookup(wire: qname)
            if case .outOfZone = placement { continue }
            let signed = query.edns?.dnssecOK == true ? prepared.signed : nil
            if let signed, signed.failure != nil { return .template(signingFailure) }
            switch placement {
            case .outOfZone:
                continue
            case .exact(let index):
                if let signed {
                    return .template(prepared.signedTemplate(node: index, qtype: query.questionType, signed: signed))
                }
                return .template(prepared.template(node: index, qtype: query.questionType))
            case .below(let encloser, _):
                if let cut = prepared.zone.nodes[encloser].cut, let referral = prepared.referral(cut: cut) {
                    if let signed {
                        return .template(prepared.signedReferral(cut: cut, signed: signed) ?? signingFailure)
                    }
                    return .template(referral)
                }
                let name = Name(uncheckedWire: Array(qname))
                if let synthesized = prepared.wildcardAnswer(
                    name: name, encloser: encloser, qtype: query.questionType, signed: signed)
                {
                    return .template(synthesized ?? signingFailure)
                }
                return nameError(qname, prepared: prepared, signed: signed)
            }
        }
        return .template(refusal)
    }
}
