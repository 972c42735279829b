import DNSWire

extension NSEC3SignedZone {
    /// The NSEC3 records (each with its RRSIGs) that deny something, as wire records
    /// without compression, copied from the signed zone: no signing.
    public struct DenialProof: Sendable, Equatable {
        /// The records, uncompressed, ready to follow any authority section.
        public let bytes: [UInt8]
        /// How many records `bytes` holds (NSEC3s and RRSIGs).
        public let count: UInt16
        /// The hashed owners of the NSEC3s, in the order written (tests, logs).
        public let owners: [NSEC3Hash]
    }

    /// RFC 5155 7.2.3 (and 7.2.4 for DS at a delegation): the NSEC3 matching `name`,
    /// which exists; nil when the chain has no NSEC3 for it, or says it holds `type`
    /// (the chain and the answer disagree: the caller falls back).
    public func noDataProof(for name: Name, type: RRType) -> DenialProof? {
        let hash = renderer.parameters.hash(name)
        guard let index = matching(hash), !bitmap(of: index, contains: type) else { return nil }
        return proof([index])
    }

    /// RFC 5155 7.2.2: the closest encloser proof (the NSEC3 matching the closest
    /// encloser, the one covering the next closer name) and the NSEC3 covering the
    /// wildcard at the closest encloser, each once. Nil when `name` is not below the
    /// apex, exists in the chain, lies below a name out of the chain (a cut), or a
    /// wildcard exists at its closest encloser: not a name error by this chain.
    public func nameErrorProof(for name: Name) -> DenialProof? {
        let name = name.lowercased
        guard name != renderer.apex, name.isSubdomain(of: renderer.apex) else { return nil }
        let parameters = renderer.parameters
        // Each name hashed once: the next closer's hash is the previous encloser's; the
        // apex's and its wildcard's were hashed when the renderer was made.
        var nextCloserHash = parameters.hash(name)
        var encloser = name.parent
        guard entryIndex(of: nextCloserHash) == nil else { return nil }
        while true {
            let atApex = encloser == renderer.apex
            let hash = atApex ? renderer.apexHash : parameters.hash(encloser)
            if let index = entryIndex(of: hash) {
                // Below a cut the answer is a referral, not a denial.
                guard inChain(index), entries[index].blob[0] & NSEC3ZoneNode.delegationFlag == 0 else { return nil }
                let wildcardHash = atApex ? renderer.apexWildcardHash : parameters.hash(encloser.wildcard)
                guard entryIndex(of: wildcardHash) == nil, let closer = covering(nextCloserHash),
                    let star = covering(wildcardHash)
                else { return nil }
                var indices = [index]
                for other in [closer, star] where !indices.contains(other) { indices.append(other) }
                return proof(indices)
            }
            guard !atApex else { return nil }
            nextCloserHash = hash
            encloser = encloser.parent
        }
    }

    // MARK: Finding entries

    /// The position of the entry whose hash is `hash` (in the chain or not).
    func entryIndex(of hash: NSEC3Hash) -> Int? {
        let position = lowerBound(hash)
        return position < entries.count && entries[position].hash == hash ? position : nil
    }

    /// The entry with an NSEC3 whose owner is `hash`.
    func matching(_ hash: NSEC3Hash) -> Int? {
        guard let index = entryIndex(of: hash), inChain(index) else { return nil }
        return index
    }

    /// RFC 5155 3.1.7 "covers": the chain entry with the greatest hash below `hash`,
    /// cyclically (the last one covers hashes below the first). Nil for an empty chain.
    func covering(_ hash: NSEC3Hash) -> Int? {
        guard !entries.isEmpty else { return nil }
        var position = lowerBound(hash)
        for _ in 0..<entries.count {
            position = (position - 1 + entries.count) % entries.count
            if inChain(position) { return position }
        }
        return nil
    }

    private func inChain(_ index: Int) -> Bool {
        entries[index].blob[0] & NSEC3ZoneNode.occludedFlag == 0
    }

    private func lowerBound(_ hash: NSEC3Hash) -> Int { entries.lowerBound(hash) }

    // MARK: Copying records out

    private func proof(_ indices: [Int]) -> DenialProof? {
        var out: [UInt8] = []
        out.reserveCapacity(indices.count * 256)
        var count: UInt16 = 0
        for index in indices {
            guard let written = appendNSEC3(of: index, to: &out) else { return nil }
            count += written
        }
        return DenialProof(bytes: out, count: count, owners: indices.map { entries[$0].hash })
    }

    /// Where the NSEC3 RDATA of a packed node starts (after flags, children, owner and
    /// the RRsets: see `NSEC3ZoneNode.encoded`), read without decoding the rest.
    private static func nsec3Offset(_ blob: [UInt8]) -> Int {
        var offset = 5
        while blob[offset] != 0 { offset += 1 + Int(blob[offset]) }
        offset += 1
        let rrsets = Int(blob[offset])
        offset += 1
        for _ in 0..<rrsets {
            offset += 6
            let records = Int(u16(blob, offset))
            offset += 2
            for _ in 0..<records { offset += 2 + Int(u16(blob, offset)) }
            offset = skipSignatures(blob, offset)
        }
        return offset
    }

    private static func skipSignatures(_ blob: [UInt8], _ start: Int) -> Int {
        var offset = start + 1
        for _ in 0..<Int(blob[start]) { offset += 12 + Int(blob[offset + 11]) }
        return offset
    }

    private static func u16(_ blob: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(blob[offset]) << 8 | UInt16(blob[offset + 1])
    }

    /// Whether the NSEC3 of `entries[index]` lists `type` in its bitmap (RFC 4034 4.1.2).
    private func bitmap(of index: Int, contains type: RRType) -> Bool {
        let blob = entries[index].blob
        let start = Self.nsec3Offset(blob)
        let length = Int(Self.u16(blob, start))
        var offset = start + 2 + 5 + Int(blob[start + 2 + 4])  // algorithm, flags, iterations, salt
        offset += 1 + Int(blob[offset])  // next hashed owner
        let end = start + 2 + length
        let window = UInt8(type.rawValue >> 8)
        let low = Int(type.rawValue & 0xFF)
        while offset + 2 <= end {
            let size = Int(blob[offset + 1])
            if blob[offset] == window {
                return low / 8 < size && blob[offset + 2 + low / 8] & (0x80 >> UInt8(low % 8)) != 0
            }
            offset += 2 + size
        }
        return false
    }

    /// Writes the NSEC3 of `entries[index]` and its RRSIGs (rebuilt from the stored
    /// parts, as `Renderer.rrsig` does); returns how many records (nil: it has none).
    private func appendNSEC3(of index: Int, to out: inout [UInt8]) -> UInt16? {
        let blob = entries[index].blob
        let start = Self.nsec3Offset(blob)
        let length = Int(Self.u16(blob, start))
        guard length > 0 else { return nil }
        let apex = renderer.apex.wire
        let label = entries[index].hash.base32hexLabel
        let ttl = renderer.nsec3TTL
        func owner() {
            out.append(UInt8(label.count))
            out += label
            out += apex
        }
        owner()
        out.append(be16: RRType.nsec3.rawValue)
        out.append(be16: 1)
        out.append(be32: ttl)
        out.append(be16: UInt16(length))
        out += blob[(start + 2)..<(start + 2 + length)]
        var offset = start + 2 + length
        let signatures = Int(blob[offset])
        offset += 1
        let labels = UInt8(renderer.apex.labelCount + 1)
        for _ in 0..<signatures {
            // Stored: tag u16, algorithm u8, inception u32, expiration u32, length u8, bytes.
            let size = Int(blob[offset + 11])
            owner()
            out.append(be16: RRType.rrsig.rawValue)
            out.append(be16: 1)
            out.append(be32: ttl)
            out.append(be16: UInt16(18 + apex.count + size))
            out.append(be16: RRType.nsec3.rawValue)
            out.append(blob[offset + 2])
            out.append(labels)
            out.append(be32: ttl)
            out += blob[(offset + 7)..<(offset + 11)]  // expiration
            out += blob[(offset + 3)..<(offset + 7)]  // inception
            out += blob[offset..<(offset + 2)]  // key tag
            out += apex
            out += blob[(offset + 12)..<(offset + 12 + size)]
            offset += 12 + size
        }
        return UInt16(1 + signatures)
    }
}
