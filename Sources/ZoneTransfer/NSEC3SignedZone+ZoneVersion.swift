import DNSEngine
import DNSSEC
import DNSWire

/// A version of the signed zone (`NSEC3ZoneMaintainer.signedZone`) is what AXFR serves
/// with DNSSEC on: its records are rendered name by name as the transfer writes them.
extension NSEC3SignedZone: ZoneVersion {
    public func makeRecordIterator() -> any IteratorProtocol<ResourceRecord> { makeIterator() }
}
