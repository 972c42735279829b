import DNSEngine
import DNSWire
import NodeRegistry

/// One registered node in the materialised zone, packed into one byte array (one heap
/// block per node, within the cache's bytes per name,
/// docs/design.md#the-materialised-zone):
///
///     [alias length] [alias label, lowercase]            (length 0: no alias)
///     [flags]        bit 0: node id follows, bit 1: records follow,
///                    bit 2: each record starts with its subname
///     [node id, 32 octets]                               (when bit 0)
///     { [subname, 4]? [type, 2] [RDATA length, 2] [RDATA] }*  (when bit 1)
///
/// The owner names are implied (the alias, and `<base32>.id.1bz` when the node id is
/// known; with a subname, `_PORT._tcp.` in front: `NodeSubname`), and so are class IN
/// and the TTL (the positive TTL): what is stored is only what differs between names.
/// Nodes without service records are stored without subnames (bit 2 clear).
package struct NodePayload: Sendable, Equatable {
    /// The alias label (`shashi` for `shashi.1bz`), lowercase; empty: none.
    package var alias: [UInt8]
    /// The node id when known (from verified metadata): its node-id name is listed.
    package var nodeID: NodeID?
    /// The records both names answer (A, AAAA, TXT), nil until materialised.
    package var records: [Record]?

    package struct Record: Sendable, Equatable, Hashable {
        package var subname: NodeSubname
        package var type: RRType
        package var rdata: [UInt8]

        package init(subname: NodeSubname = .node, type: RRType, rdata: [UInt8]) {
            self.subname = subname
            self.type = type
            self.rdata = rdata
        }
    }

    package init(alias: [UInt8], nodeID: NodeID? = nil, records: [Record]? = nil) {
        self.alias = alias
        self.nodeID = nodeID
        self.records = records
    }

    package func encoded() -> [UInt8] {
        let subnames = records?.contains { $0.subname != .node } ?? false
        // Reserved to the byte: the zone holds this array as long as the node lives, and
        // a reservation for a node id most nodes lack was 32 bytes of nothing each.
        let recordBytes = records?.reduce(0) { $0 + (subnames ? 8 : 4) + $1.rdata.count } ?? 0
        var out: [UInt8] = []
        out.reserveCapacity(2 + alias.count + (nodeID == nil ? 0 : 32) + recordBytes)
        out.append(UInt8(alias.count))
        out += alias
        out.append((nodeID == nil ? 0 : 1) | (records == nil ? 0 : 2) | (subnames ? 4 : 0))
        if let nodeID { out += nodeID.bytes }
        for record in records ?? [] {
            if subnames { out += (0..<4).map { UInt8(truncatingIfNeeded: record.subname.rawValue >> (24 - 8 * $0)) } }
            out += [UInt8(record.type.rawValue >> 8), UInt8(record.type.rawValue & 0xFF)]
            out += [UInt8(record.rdata.count >> 8), UInt8(record.rdata.count & 0xFF)]
            out += record.rdata
        }
        return out
    }

    /// Decodes what `encoded()` made (nil for anything else).
    package init?(encoded bytes: [UInt8]) {
        guard let aliasLength = bytes.first.map(Int.init), bytes.count >= 2 + aliasLength else { return nil }
        alias = Array(bytes[1..<1 + aliasLength])
        var index = 1 + aliasLength
        let flags = bytes[index]
        index += 1
        if flags & 1 != 0 {
            guard index + 32 <= bytes.count else { return nil }
            nodeID = NodeID(bytes: Array(bytes[index..<index + 32]))
            index += 32
        } else {
            nodeID = nil
        }
        guard flags & 2 != 0 else {
            records = nil
            return
        }
        var records: [Record] = []
        while index < bytes.count {
            var subname = NodeSubname.node
            if flags & 4 != 0 {
                guard index + 4 <= bytes.count else { return nil }
                subname = NodeSubname(rawValue: bytes[index..<index + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
                index += 4
            }
            guard index + 4 <= bytes.count else { return nil }
            let type = RRType(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
            let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            index += 4
            guard index + length <= bytes.count else { return nil }
            records.append(Record(subname: subname, type: type, rdata: Array(bytes[index..<index + length])))
            index += length
        }
        self.records = records
    }

    /// Compares the stored alias with a query's label (any case), without allocating.
    static func alias(of encoded: [UInt8], equals label: UnsafeRawBufferPointer) -> Bool {
        guard let length = encoded.first, Int(length) == label.count, encoded.count > label.count else { return false }
        for index in 0..<label.count where encoded[1 + index] != asciiLower(label[index]) { return false }
        return true
    }

    /// The alias name (`shashi.1bz.`), if any.
    package var aliasName: Name? {
        guard !alias.isEmpty else { return nil }
        return try? Name(wire: [UInt8(alias.count)] + alias + [3, 0x31, 0x62, 0x7A, 0])
    }

    /// The node-id name (`<base32>.id.1bz.`), if the node id is known.
    package var nodeIDName: Name? {
        nodeID.flatMap { try? Name($0.dnsName) }
    }

    /// The owner names this node holds in the zone.
    package var owners: [Name] { [aliasName, nodeIDName].compactMap { $0 } }

    /// Every record of this node in the zone (each owner, the same RDATA sets).
    package func zoneRecords(ttl: UInt32) -> [ResourceRecord] {
        guard let records else { return [] }
        return owners.flatMap { owner in
            records.compactMap { record in
                guard let name = Self.name(record.subname, of: owner) else { return nil }
                return ResourceRecord(name: name, type: record.type, ttl: ttl, rdata: record.rdata)
            }
        }
    }

    /// `owner` with the subname's labels in front (nil: too long, never for node names).
    static func name(_ subname: NodeSubname, of owner: Name) -> Name? {
        guard subname != .node else { return owner }
        var prefix: [UInt8] = []
        for label in subname.prefix.split(separator: ".") { prefix += [UInt8(label.utf8.count)] + Array(label.utf8) }
        return try? Name(wire: prefix + owner.wire)
    }

    /// The record as the payload holds it: its subname relative to `owner` (nil for a
    /// record owned elsewhere).
    static func record(_ record: ResourceRecord, owner: Name) -> Record? {
        if record.name == owner { return Record(type: record.type, rdata: record.rdata) }
        guard let (subname, offset) = record.name.wire.withUnsafeBytes({ NodeSubname.split($0) }),
            subname != .node, Name(uncheckedWire: Array(record.name.wire[offset...])) == owner
        else { return nil }
        return Record(subname: subname, type: record.type, rdata: record.rdata)
    }
}
