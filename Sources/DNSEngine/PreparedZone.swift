import Atomics
import DNSWire
import ZoneCache

/// The zone with every answer it can give rendered ahead of time: per node, one
/// template per type present, one NODATA, one minimal ANY; per delegation, one referral;
/// one NXDOMAIN. The query path picks a template and patches it.
///
/// A class (immutable, so Sendable): the query path takes one reference to the current
/// snapshot per query; a struct this size would be copied, retaining every array in it.
package final class PreparedZone: Sendable {
    package let zone: Zone
    package let planner: AnswerPlanner
    /// Per node: templates for the types it holds (rendered for the node's name).
    private let answers: [[RRType: ResponseTemplate]]
    private let noData: [ResponseTemplate]
    private let minimalAny: [ResponseTemplate]
    /// Per node that is a delegation point; position independent (used for every name
    /// at or below the cut).
    private let referrals: [Int: ResponseTemplate]
    /// Position independent, fits any name.
    package let nameError: ResponseTemplate
    /// NODATA for a name the zone does not hold (a dynamic name without records of the
    /// asked type): position independent.
    package let noDataAnywhere: ResponseTemplate

    package init(zone: Zone) {
        let planner = AnswerPlanner(zone: zone)
        var answers: [[RRType: ResponseTemplate]] = []
        var noData: [ResponseTemplate] = []
        var minimalAny: [ResponseTemplate] = []
        var referrals: [Int: ResponseTemplate] = [:]
        for (index, node) in zone.nodes.enumerated() {
            let owner = node.name.lowercased
            var byType: [RRType: ResponseTemplate] = [:]
            for type in node.types {
                byType[type] = planner.plan(node: node, qtype: type).render(questionName: owner)
            }
            // A CNAME node answers every other type with the CNAME chain.
            if node.rrsets[.cname] != nil {
                for type in [RRType.a, .aaaa, .txt, .mx, .ns, .srv, .caa, .ds] where byType[type] == nil {
                    byType[type] = planner.plan(node: node, qtype: type).render(questionName: owner)
                }
            }
            answers.append(byType)
            noData.append(planner.plan(node: node, qtype: RRType(0)).render(questionName: owner))
            minimalAny.append(planner.plan(node: node, qtype: .any).render(questionName: owner))
            if node.isDelegation {
                referrals[index] = planner.referral(cut: node).render(questionName: nil)
            }
        }
        self.zone = zone
        self.planner = planner
        self.answers = answers
        self.noData = noData
        self.minimalAny = minimalAny
        self.referrals = referrals
        self.nameError = planner.nameError().render(questionName: nil)
        self.noDataAnywhere = planner.noData().render(questionName: nil)
    }

    /// The template for `qtype` at an existing node (index into `zone.nodes`).
    @inline(__always)
    package func template(node index: Int, qtype: RRType) -> ResponseTemplate {
        if let cut = zone.nodes[index].cut, !(cut == index && qtype == .ds), let referral = referrals[cut] {
            return referral
        }
        if qtype == .any { return minimalAny[index] }
        if let template = answers[index][qtype] { return template }
        let node = zone.nodes[index]
        if node.rrsets[.cname] != nil {
            // Rare types at a CNAME: plan on demand rather than for all 65536 types.
            return planner.plan(node: node, qtype: qtype).render(questionName: node.name.lowercased)
        }
        return noData[index]
    }

    /// The referral for names below the delegation point `cut`.
    package func referral(cut: Int) -> ResponseTemplate? { referrals[cut] }
}

extension PreparedZone: AtomicReference {}
