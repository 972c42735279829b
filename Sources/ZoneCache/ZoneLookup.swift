/// Where a query name falls in the zone.
public enum ZoneLookup: Sendable, Hashable {
    /// Not at or below the apex.
    case outOfZone
    /// The name is a node (index into `Zone.nodes`).
    case exact(Int)
    /// The name does not exist; `encloser` is the closest existing ancestor and
    /// `extraLabels` how many labels the query name has below it.
    case below(encloser: Int, extraLabels: Int)
}
