import DNSWire

/// One owner name of a zone signed with NSEC3, as `NSEC3ZoneMaintainer` keeps it: its
/// RRsets with their signatures, and the NSEC3 published for it with its signatures.
/// Stored packed in one byte array per name (`encoded()` / `init(decoding:)`), decoded
/// only while a change, a refresh or a transfer works on it.
struct NSEC3ZoneNode: Sendable, Equatable {
    /// One RRSIG without what the zone already knows (type covered, labels, original
    /// TTL and signer come from the RRset, its owner and the apex).
    struct Signature: Sendable, Equatable {
        var keyTag: UInt16
        var algorithm: UInt8
        var inception: UInt32
        var expiration: UInt32
        var bytes: [UInt8]
    }

    struct RRset: Sendable, Equatable {
        var type: RRType
        var ttl: UInt32
        var rdatas: [[UInt8]]
        var signatures: [Signature] = []
    }

    /// Lowercase owner (the canonical form; the zone is served in it).
    var owner: Name
    /// Names directly below this one that exist (with data, or empty non-terminals).
    var children: UInt32 = 0
    /// At or below a zone cut's child side: glue and occluded data, out of the chain, unsigned.
    var occluded = false
    /// Sorted by type.
    var rrsets: [RRset] = []
    /// The NSEC3 RDATA as published (nil: none, the name is not in the chain).
    var nsec3: [UInt8]? = nil
    var nsec3Signatures: [Signature] = []

    init(owner: Name) { self.owner = owner }

    var hasData: Bool { !rrsets.isEmpty }

    func rrset(_ type: RRType) -> RRset? { rrsets.first { $0.type == type } }

    /// A zone cut below the apex (RFC 4035 2.2: NS at a name other than the apex).
    func isDelegation(apex: Name) -> Bool { rrset(.ns) != nil && owner != apex }

    // MARK: Changes (each invalidates the changed RRset's signatures)

    mutating func add(type: RRType, ttl: UInt32, rdata: [UInt8]) {
        let canonical = canonicalKey(type: type, rdata: rdata)
        if let index = rrsets.firstIndex(where: { $0.type == type }) {
            let exists = rrsets[index].rdatas.contains { canonicalKey(type: type, rdata: $0) == canonical }
            guard !exists || rrsets[index].ttl != ttl else { return }
            if !exists { rrsets[index].rdatas.append(rdata) }
            rrsets[index].ttl = ttl  // RFC 2181 5.2: one TTL per RRset, the latest wins
            rrsets[index].signatures = []
        } else {
            let position = rrsets.firstIndex { $0.type.rawValue > type.rawValue } ?? rrsets.count
            rrsets.insert(RRset(type: type, ttl: ttl, rdatas: [rdata]), at: position)
        }
    }

    mutating func remove(type: RRType, rdata: [UInt8]) {
        guard let index = rrsets.firstIndex(where: { $0.type == type }) else { return }
        let canonical = canonicalKey(type: type, rdata: rdata)
        var rdatas = rrsets[index].rdatas
        rdatas.removeAll { canonicalKey(type: type, rdata: $0) == canonical }
        guard rdatas.count != rrsets[index].rdatas.count else { return }
        if rdatas.isEmpty {
            rrsets.remove(at: index)
        } else {
            rrsets[index].rdatas = rdatas
            rrsets[index].signatures = []
        }
    }

    /// Replaces an RRset whole (SOA, the apex key sets); unchanged content keeps its signatures.
    mutating func replace(type: RRType, ttl: UInt32, rdatas: [[UInt8]]) {
        if let index = rrsets.firstIndex(where: { $0.type == type }) {
            if rdatas.isEmpty {
                rrsets.remove(at: index)
            } else if rrsets[index].ttl != ttl || rrsets[index].rdatas != rdatas {
                rrsets[index] = RRset(type: type, ttl: ttl, rdatas: rdatas)
            }
        } else if !rdatas.isEmpty {
            let position = rrsets.firstIndex { $0.type.rawValue > type.rawValue } ?? rrsets.count
            rrsets.insert(RRset(type: type, ttl: ttl, rdatas: rdatas), at: position)
        }
    }

    /// Two RDATAs are the same record when their canonical forms are (RFC 4034 6.2).
    private func canonicalKey(type: RRType, rdata: [UInt8]) -> [UInt8] {
        CanonicalRRset.canonicalRDATA(ResourceRecord(name: owner, type: type, ttl: 0, rdata: rdata))
    }

    // MARK: Packed form

    static let occludedFlag: UInt8 = 1
    static let delegationFlag: UInt8 = 2

    /// Flags byte at offset 0 (occluded, delegation), so the chain walk and the
    /// occlusion check read it without decoding the rest.
    func flags(apex: Name) -> UInt8 {
        (occluded ? Self.occludedFlag : 0) | (isDelegation(apex: apex) ? Self.delegationFlag : 0)
    }

    /// flags u8, children u32, owner (wire), rrset count u8, per RRset: type u16, ttl u32,
    /// count u16, (length u16, rdata)*, signatures; NSEC3: length u16 (0: none), rdata,
    /// signatures. Signatures: count u8, per one: tag u16, algorithm u8, inception u32,
    /// expiration u32, length u8, bytes.
    func encoded(apex: Name) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedSizeEstimate)
        out.append(flags(apex: apex))
        out.append(be32: children)
        out += owner.wire
        out.append(UInt8(rrsets.count))
        for rrset in rrsets {
            out.append(be16: rrset.type.rawValue)
            out.append(be32: rrset.ttl)
            out.append(be16: UInt16(rrset.rdatas.count))
            for rdata in rrset.rdatas {
                out.append(be16: UInt16(rdata.count))
                out += rdata
            }
            Self.encode(rrset.signatures, into: &out)
        }
        out.append(be16: UInt16(nsec3?.count ?? 0))
        if let nsec3 {
            out += nsec3
            Self.encode(nsec3Signatures, into: &out)
        }
        return out
    }

    private var encodedSizeEstimate: Int {
        var size = 8 + owner.wire.count
        for rrset in rrsets {
            size += 9 + rrset.rdatas.reduce(0) { $0 + 2 + $1.count } + rrset.signatures.count * 80
        }
        return size + (nsec3?.count ?? 0) + nsec3Signatures.count * 80
    }

    private static func encode(_ signatures: [Signature], into out: inout [UInt8]) {
        out.append(UInt8(signatures.count))
        for signature in signatures {
            out.append(be16: signature.keyTag)
            out.append(signature.algorithm)
            out.append(be32: signature.inception)
            out.append(be32: signature.expiration)
            out.append(UInt8(signature.bytes.count))
            out += signature.bytes
        }
    }

    /// Decodes what `encoded` wrote (the maintainer's own bytes: trusted).
    init(decoding blob: [UInt8]) {
        var reader = BlobReader(bytes: blob)
        let flags = reader.u8()
        children = reader.u32()
        owner = reader.name()
        occluded = flags & Self.occludedFlag != 0
        let count = Int(reader.u8())
        rrsets.reserveCapacity(count)
        for _ in 0..<count {
            let type = RRType(reader.u16())
            let ttl = reader.u32()
            let records = Int(reader.u16())
            var rdatas: [[UInt8]] = []
            rdatas.reserveCapacity(records)
            for _ in 0..<records { rdatas.append(reader.bytes(Int(reader.u16()))) }
            rrsets.append(RRset(type: type, ttl: ttl, rdatas: rdatas, signatures: reader.signatures()))
        }
        let nsec3Length = Int(reader.u16())
        if nsec3Length > 0 {
            nsec3 = reader.bytes(nsec3Length)
            nsec3Signatures = reader.signatures()
        }
    }

    /// The owner of a packed node, without decoding the rest.
    static func owner(ofEncoded blob: [UInt8]) -> Name {
        var reader = BlobReader(bytes: blob, offset: 5)
        return reader.name()
    }

    private struct BlobReader {
        let storage: [UInt8]
        var offset = 0

        init(bytes: [UInt8], offset: Int = 0) {
            storage = bytes
            self.offset = offset
        }

        mutating func u8() -> UInt8 {
            defer { offset += 1 }
            return storage[offset]
        }
        mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }
        mutating func u32() -> UInt32 { UInt32(u16()) << 16 | UInt32(u16()) }
        mutating func bytes(_ count: Int) -> [UInt8] {
            defer { offset += count }
            return Array(storage[offset..<(offset + count)])
        }
        mutating func name() -> Name {
            let start = offset
            while storage[offset] != 0 { offset += 1 + Int(storage[offset]) }
            offset += 1
            return Name(uncheckedWire: Array(storage[start..<offset]))
        }
        mutating func signatures() -> [Signature] {
            let count = Int(u8())
            var out: [Signature] = []
            out.reserveCapacity(count)
            for _ in 0..<count {
                let tag = u16()
                let algorithm = u8()
                let inception = u32()
                let expiration = u32()
                out.append(
                    Signature(
                        keyTag: tag, algorithm: algorithm, inception: inception, expiration: expiration,
                        bytes: bytes(Int(u8()))))
            }
            return out
        }
    }
}
