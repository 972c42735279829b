import ChainReader
import Crypto
import Foundation
import NodeRegistry

#if canImport(Glibc)
import Glibc
#endif

/// A zone snapshot on disk, and how it is written safely: to `<path>.tmp` in the same
/// directory, fsync, rename over `path`, fsync of the directory. A crash at any moment
/// leaves the previous snapshot or the new one, never a mix; a torn or edited file
/// fails its length or checksum and is refused.
///
/// Layout (integers big-endian):
///
///     magic "1BZZONE\0"  8        version  4       length (whole file)  8
///     chain id  8                 contract  20
///     block  8                    block hash  32   serial  4      node count  8
///     per node: hash 32, touched block 8, flags 1 (1 stale, 2 materialised),
///               payload length 4, payload (NodePayload encoding)
///     SHA-256 of everything before it  32
package enum ZoneSnapshotFile {
    static let magic = Array("1BZZONE\0".utf8)
    static let headerSize = 100
    static let checksumSize = 32

    // MARK: Writing

    /// Writes `view` to `path` crash-safely; returns the bytes written.
    @discardableResult
    package static func write(_ view: ZoneSnapshot.View, identity: ZoneSnapshot.Identity, to path: String) throws -> Int {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ZoneSnapshotRefusal("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var closed = false
        defer { if !closed { close(fd) } }
        var writer = Writer(fd: fd)
        try encode(view, identity: identity, into: &writer)
        try writer.finish()
        guard fsync(fd) == 0 else { throw ZoneSnapshotRefusal("fsync \(temporary): \(String(cString: strerror(errno)))") }
        close(fd)
        closed = true
        if let failure = DurableFile.move(temporary, over: path) { throw ZoneSnapshotRefusal(failure) }
        return writer.written
    }

    /// The whole encoding, streamed through `writer` (which hashes what passes).
    static func encode(_ view: ZoneSnapshot.View, identity: ZoneSnapshot.Identity, into writer: inout Writer) throws {
        var length = headerSize + checksumSize
        var count = 0
        for entry in view.entries where entry.inUse {
            length += 45 + entry.payload.count
            count += 1
        }
        var header: [UInt8] = magic
        header.reserveCapacity(headerSize)
        append(ZoneSnapshot.formatVersion, to: &header)
        append(UInt64(length), to: &header)
        append(identity.chainID, to: &header)
        header += identity.contract.bytes
        append(view.checkpoint.number, to: &header)
        header += view.checkpoint.hash.bytes
        append(view.serial, to: &header)
        append(UInt64(count), to: &header)
        try writer.write(header)
        var chunk: [UInt8] = []
        chunk.reserveCapacity(1 << 20)
        for entry in view.entries where entry.inUse {
            for word in [entry.hash.w0, entry.hash.w1, entry.hash.w2, entry.hash.w3] { append(word, to: &chunk) }
            append(entry.touched, to: &chunk)
            chunk.append((entry.isStale ? 1 : 0) | (entry.materialised ? 2 : 0))
            append(UInt32(entry.payload.count), to: &chunk)
            chunk += entry.payload
            if chunk.count >= 1 << 20 {
                try writer.write(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        try writer.write(chunk)
    }

    /// Buffered output that hashes every byte it writes, then appends the digest.
    struct Writer {
        let fd: Int32
        var hasher = SHA256()
        var written = 0

        init(fd: Int32) { self.fd = fd }

        mutating func write(_ bytes: [UInt8]) throws {
            hasher.update(data: bytes)
            try raw(bytes)
        }

        mutating func finish() throws { try raw(Array(hasher.finalize())) }

        private mutating func raw(_ bytes: [UInt8]) throws {
            if let failure = DurableFile.writeAll(fd, bytes) { throw ZoneSnapshotRefusal(failure) }
            written += bytes.count
        }
    }

    static func append(_ value: some FixedWidthInteger, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out += $0 }
    }

    // MARK: Reading

    /// The snapshot at `path`, if it is whole, unaltered, of this format and of
    /// `identity`'s chain and contract; else why not. Nil when there is no file.
    package static func read(
        _ path: String, expecting identity: ZoneSnapshot.Identity
    ) throws(ZoneSnapshotRefusal) -> ZoneSnapshot? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw ZoneSnapshotRefusal("cannot read it: \(error.localizedDescription)")
        }
        do {
            return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> ZoneSnapshot in
                try decode(raw, expecting: identity)
            }
        } catch let refusal as ZoneSnapshotRefusal {
            throw refusal
        } catch {
            throw ZoneSnapshotRefusal("\(error)")
        }
    }

    /// Checks in the order that names the most useful reason: the file's kind, its
    /// format version, its length (truncated), its checksum, then chain and contract.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, expecting identity: ZoneSnapshot.Identity
    ) throws(ZoneSnapshotRefusal) -> ZoneSnapshot {
        guard bytes.count >= 20 else { throw ZoneSnapshotRefusal("truncated: \(bytes.count) bytes, shorter than a header") }
        guard Array(bytes[0..<8]) == magic else { throw ZoneSnapshotRefusal("not a zone snapshot (bad magic)") }
        var reader = Reader(bytes: bytes, offset: 8)
        let version: UInt32 = reader.integer()
        guard version == ZoneSnapshot.formatVersion else {
            throw ZoneSnapshotRefusal("format version \(version), this onebzd reads version \(ZoneSnapshot.formatVersion)")
        }
        let length: UInt64 = reader.integer()
        guard length >= UInt64(headerSize + checksumSize) else { throw ZoneSnapshotRefusal("malformed: length \(length)") }
        guard UInt64(bytes.count) >= length else { throw ZoneSnapshotRefusal("truncated: \(bytes.count) of \(length) bytes") }
        guard UInt64(bytes.count) == length else {
            throw ZoneSnapshotRefusal("\(UInt64(bytes.count) - length) bytes after the end of the snapshot")
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<bytes.count - checksumSize])
        let digest = Array(SHA256.hash(data: body))
        guard digest == Array(bytes[(bytes.count - checksumSize)...]) else {
            throw ZoneSnapshotRefusal("checksum mismatch (SHA-256 of the content): the file was altered or torn")
        }
        let chainID: UInt64 = reader.integer()
        let contract = EthereumAddress(unchecked: reader.bytes(20))
        let found = ZoneSnapshot.Identity(chainID: chainID, contract: contract)
        guard found.chainID == identity.chainID else {
            throw ZoneSnapshotRefusal("it is of chain id \(found.chainID), this onebzd serves chain id \(identity.chainID)")
        }
        guard found.contract == identity.contract else {
            throw ZoneSnapshotRefusal("it is of contract \(found.contract.hex), this onebzd serves \(identity.contract.hex)")
        }
        let block: UInt64 = reader.integer()
        let hash = Bytes32(unchecked: reader.bytes(32))
        let serial: UInt32 = reader.integer()
        let count: UInt64 = reader.integer()
        let end = bytes.count - checksumSize
        var names = MaterializedNames()
        for index in 0..<count {
            guard reader.offset + 45 <= end else { throw ZoneSnapshotRefusal("malformed: node \(index) runs past the end") }
            let nodeHash = NodeHash(unchecked: reader.bytes(32))
            let touched: UInt64 = reader.integer()
            let flags = reader.bytes(1)[0]
            let size = Int(reader.integer() as UInt32)
            guard reader.offset + size <= end else { throw ZoneSnapshotRefusal("malformed: node \(index) runs past the end") }
            let payload = reader.bytes(size)
            guard NodePayload(encoded: payload) != nil else { throw ZoneSnapshotRefusal("malformed: node \(index)'s records") }
            names.restore(hash: nodeHash, payload: payload, touched: touched, stale: flags & 1 != 0, materialised: flags & 2 != 0)
        }
        guard reader.offset == end else { throw ZoneSnapshotRefusal("malformed: \(end - reader.offset) bytes after the nodes") }
        return ZoneSnapshot(
            identity: found, checkpoint: ChainCheckpoint(number: block, hash: hash), serial: serial, names: names)
    }

    /// Bounds are checked by the caller (header size, per-node lengths).
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset: Int

        mutating func integer<T: FixedWidthInteger>() -> T {
            var value: T = 0
            for _ in 0..<MemoryLayout<T>.size {
                value = value << 8 | T(bytes[offset])
                offset += 1
            }
            return value
        }

        mutating func bytes(_ count: Int) -> [UInt8] {
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }
    }
}
