import Metrics

/// Where signatures are made, for `onebz_dnssec_signatures_total{place}`: every RRSIG
/// `ZoneSigner` makes is counted under the place that asked for it
/// (docs/dnssec.md#where-signing-happens-today).
public struct SignaturePlace: Sendable {
    public let name: String
    let counter: Counter

    init(_ name: String) {
        self.name = name
        counter = Counter(label: "onebz_dnssec_signatures_total", dimensions: [("place", name)])
    }

    /// The static zone's prepared answers (`PreparedZone`).
    public static let staticZone = SignaturePlace("static")
    /// Per-name compact denials of the static zone (`PreparedZone.denial`).
    public static let denial = SignaturePlace("denial")
    /// Chain-backed answers rendered into the cache.
    public static let dynamic = SignaturePlace("dynamic")
    /// The zone secondaries receive (NSEC3, `NSEC3ZoneMaintainer`).
    public static let transfer = SignaturePlace("transfer")
    /// Anything else (tools, benchmarks).
    public static let other = SignaturePlace("other")
}
