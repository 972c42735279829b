import Foundation
import GRDB
import NodeRegistry

/// The registry database (SQLite in WAL mode via GRDB's DatabasePool). Every mutation
/// first checks and then writes, atomically: the API's writes in a savepoint of a group
/// commit (`GroupCommit`: concurrent requests share one transaction and one fsync, each
/// answered after it commits), the chain sweep's in transactions of their own. A rejected
/// request writes nothing and a kill -9 leaves either the old or the new state.
struct Store: Sendable {
    let pool: DatabasePool
    let commits: GroupCommit
    /// Verified public keys by node id: a node id is the hash of its key, so an entry
    /// never goes stale (heartbeats and endorsements check signatures with it before
    /// their write, without a read and a JSON decode of the stored record).
    let keys = KeyCache()
    /// Heartbeats and endorsements further than this from the registry clock are refused.
    static let maxClockSkew: Int64 = 300
    /// Rows the change feed keeps (`--changes-retain`); older cursors must resync.
    let changesRetain: Int64

    init(path: String, changesRetain: Int = 100_000) throws {
        self.changesRetain = Int64(max(1, changesRetain))
        var config = Configuration()
        config.busyMode = .timeout(5)
        // Every commit fsyncs the WAL: a 2xx answer survives a power loss, not only a
        // crash of the process (NORMAL would lose the last commits then). Group commit
        // pays that once per batch (docs/registry.md, Storage and durability).
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        pool = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(pool)
        commits = GroupCommit(pool: pool)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE nodes (
                        node_id TEXT PRIMARY KEY NOT NULL,
                        node_hash TEXT NOT NULL UNIQUE,
                        record TEXT NOT NULL,          -- the signed JSON as accepted
                        seq TEXT NOT NULL,             -- decimal UInt64 (SQLite INTEGER is signed)
                        updated_at INTEGER NOT NULL,
                        trust INTEGER NOT NULL,
                        tier TEXT NOT NULL
                    );
                    CREATE TABLE chain_nodes (
                        node_hash TEXT PRIMARY KEY NOT NULL,
                        registered INTEGER NOT NULL,
                        wallet TEXT NOT NULL,
                        dns_name TEXT NOT NULL,
                        verified INTEGER NOT NULL,
                        stake_wei TEXT NOT NULL,
                        checked_at INTEGER NOT NULL
                    );
                    CREATE TABLE heartbeats (
                        node_id TEXT NOT NULL,
                        ts INTEGER NOT NULL,
                        PRIMARY KEY (node_id, ts)
                    );
                    CREATE TABLE endorsements (
                        endorser TEXT NOT NULL,
                        node_id TEXT NOT NULL,
                        ts INTEGER NOT NULL,
                        signature TEXT NOT NULL,
                        PRIMARY KEY (endorser, node_id)
                    );
                    CREATE TABLE changes (
                        cursor INTEGER PRIMARY KEY AUTOINCREMENT,
                        node_id TEXT NOT NULL,
                        at INTEGER NOT NULL
                    );
                    """)
        }
        m.registerMigration("v2-feed-horizon") { db in
            // The highest cursor pruned from `changes`: a client behind it missed rows.
            try db.execute(sql: "CREATE TABLE feed_meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL)")
        }
        m.registerMigration("v3-dns-name-index") { db in
            // GET /v1/nodes/by-name looks names up here: without an index each request
            // scanned every registered node (onebzd's cold start at 100k names, issue 23).
            try db.execute(sql: "CREATE INDEX chain_nodes_dns_name ON chain_nodes (dns_name)")
        }
        return m
    }

    // MARK: Records

    /// `put` without a fresh chain state found the node not registered in the chain view:
    /// the caller reads the chain and tries again with what it read.
    struct NotRegisteredInView: Error {}

    /// Stores a verified record if its seq is higher than the stored one, with the chain
    /// state just read for it (`freshChain`); without one the node must be registered in
    /// the chain view (else `NotRegisteredInView`, nothing written).
    func put(_ m: VerifiedNodeMetadata, freshChain: ChainNodeState?, now: Int64) async throws -> RegistryEntry {
        let json = String(decoding: RegistryJSON.encode(m.record), as: UTF8.self)
        // Derived once (a Keccak-256 and a hex encoding), not per statement; the record's
        // node_id is its id's hex (verify() parsed it: 64 lowercase hex digits).
        let id = m.record.nodeID, hash = m.nodeHash, hashHex = hash.hex
        let entry = try await commits.write { db in
            if let freshChain {
                try Self.saveChain(db, hash, freshChain, now: now)
            } else if try !(Bool.fetchOne(
                db.cachedStatement(sql: "SELECT registered FROM chain_nodes WHERE node_hash = ?"), arguments: [hashHex])
                ?? false)
            {
                throw NotRegisteredInView()
            }
            if let stored = try String.fetchOne(
                db.cachedStatement(sql: "SELECT seq FROM nodes WHERE node_id = ?"), arguments: [id]),
                let storedSeq = UInt64(stored), m.seq <= storedSeq
            {
                throw APIError.conflict("stale_seq", "seq \(m.seq) is not greater than the stored seq \(storedSeq)")
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO nodes (node_id, node_hash, record, seq, updated_at, trust, tier)
                    VALUES (?, ?, ?, ?, ?, 0, '')
                    ON CONFLICT(node_id) DO UPDATE SET record = excluded.record, seq = excluded.seq,
                        updated_at = excluded.updated_at
                    """
            ).execute(arguments: [id, hashHex, json, String(m.seq), now])
            _ = try Self.recomputeTrust(db, id, now: now)
            try noteChange(db, id, now: now)
            return try Self.entry(db, nodeID: id, record: m.record)!
        }
        keys.insert(m.nodeID, m.publicKey)
        return entry
    }

    /// Stores verified records in one transaction (`onebz-registry import`), each as
    /// `put` would but without the live chain read: a record whose seq is not above the
    /// stored one is skipped (its index is returned), the others are stored, scored with
    /// the chain state the registry has seen, and noted in the change feed.
    func importRecords(_ records: [(index: Int, record: VerifiedNodeMetadata)], now: Int64) async throws -> [Int] {
        let rows = records.map { ($0.index, $0.record, String(decoding: RegistryJSON.encode($0.record.record), as: UTF8.self)) }
        return try await pool.write { db in
            var stale: [Int] = []
            let select = try db.makeStatement(sql: "SELECT seq FROM nodes WHERE node_id = ?")
            let upsert = try db.makeStatement(
                sql: """
                    INSERT INTO nodes (node_id, node_hash, record, seq, updated_at, trust, tier)
                    VALUES (?, ?, ?, ?, ?, 0, '')
                    ON CONFLICT(node_id) DO UPDATE SET record = excluded.record, seq = excluded.seq,
                        updated_at = excluded.updated_at
                    """)
            let change = try db.makeStatement(sql: "INSERT INTO changes (node_id, at) VALUES (?, ?)")
            for (index, m, json) in rows {
                let id = m.nodeID.hex
                if let stored = try String.fetchOne(select, arguments: [id]), let storedSeq = UInt64(stored), m.seq <= storedSeq {
                    stale.append(index)
                    continue
                }
                try upsert.execute(arguments: [id, m.nodeHash.hex, json, String(m.seq), now])
                _ = try Self.recomputeTrust(db, id, now: now)
                try change.execute(arguments: [id, now])
            }
            try pruneChanges(db, lastCursor: try Int64.fetchOne(db, sql: "SELECT MAX(cursor) FROM changes") ?? 0)
            return stale
        }
    }

    func entry(nodeID: String) async throws -> RegistryEntry? {
        try await pool.read { db in try Self.entry(db, nodeID: nodeID) }
    }

    func entry(nodeHash: NodeHash) async throws -> RegistryEntry? {
        try await pool.read { db in
            guard let id = try String.fetchOne(db, sql: "SELECT node_id FROM nodes WHERE node_hash = ?", arguments: [nodeHash.hex])
            else { return nil }
            return try Self.entry(db, nodeID: id)
        }
    }

    /// What the registry's chain view has registered under `dnsName`: its node hash (nil:
    /// not seen registered) and that node's entry (nil: no record published). A hint
    /// for onebzd, which checks the node hash against the chain.
    func registration(dnsName: String) async throws -> (nodeHash: NodeHash, entry: RegistryEntry?)? {
        try await pool.read { db in
            guard
                let hash = try NodeHash.fetchOne(
                    db, sql: "SELECT node_hash FROM chain_nodes WHERE dns_name = ? AND registered = 1",
                    arguments: [dnsName])
            else { return nil }
            let id = try String.fetchOne(db, sql: "SELECT node_id FROM nodes WHERE node_hash = ?", arguments: [hash])
            return (hash, try id.flatMap { try Self.entry(db, nodeID: $0) })
        }
    }

    /// The stored, previously verified public key of a node.
    func publicKey(nodeID: String) async throws -> Ed25519PublicKey? {
        guard let id = NodeID(hex: nodeID) else { return nil }
        if let key = keys[id] { return key }
        guard let key = try await pool.read({ db in try Self.publicKey(db, nodeID) }) else { return nil }
        keys.insert(id, key)
        return key
    }

    // MARK: Heartbeats and endorsements

    /// Stores a heartbeat whose signature the caller checked (`RegistryRoutes.heartbeat`,
    /// outside the single writer, so a flood of bogus ones queues no writes).
    func heartbeat(_ hb: Heartbeat, now: Int64) async throws -> RegistryEntry {
        try Self.checkSkew(hb.timestamp, now: now)
        return try await commits.write { db in
            guard try Self.hasRecord(db, hb.nodeID) else {
                throw APIError.notFound("node \(hb.nodeID) has no record here; publish one first")
            }
            let last = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT MAX(ts) FROM heartbeats WHERE node_id = ?"), arguments: [hb.nodeID])
            if let last, hb.timestamp <= last {
                throw APIError.conflict("replay", "timestamp \(hb.timestamp) is not after the last heartbeat (\(last))")
            }
            try db.cachedStatement(sql: "INSERT INTO heartbeats (node_id, ts) VALUES (?, ?)")
                .execute(arguments: [hb.nodeID, hb.timestamp])
            try db.cachedStatement(sql: "DELETE FROM heartbeats WHERE node_id = ? AND ts < ?")
                .execute(arguments: [hb.nodeID, now - Trust.uptimeWindow - Self.maxClockSkew])
            if try Self.recomputeTrust(db, hb.nodeID, now: now) { try noteChange(db, hb.nodeID, now: now) }
            return try Self.entry(db, nodeID: hb.nodeID)!
        }
    }

    /// Stores an endorsement whose signature the caller checked and whose nodes are registered.
    func endorse(_ e: Endorsement, now: Int64) async throws -> RegistryEntry {
        try Self.checkSkew(e.timestamp, now: now)
        return try await commits.write { db in
            guard try Self.hasRecord(db, e.nodeID) else {
                throw APIError.notFound("endorsed node \(e.nodeID) has no record here")
            }
            if let last = try Int64.fetchOne(
                db, sql: "SELECT ts FROM endorsements WHERE endorser = ? AND node_id = ?", arguments: [e.endorser, e.nodeID]),
                e.timestamp <= last
            {
                throw APIError.conflict("replay", "timestamp \(e.timestamp) is not after this endorser's last (\(last))")
            }
            try db.execute(
                sql: """
                    INSERT INTO endorsements (endorser, node_id, ts, signature) VALUES (?, ?, ?, ?)
                    ON CONFLICT(endorser, node_id) DO UPDATE SET ts = excluded.ts, signature = excluded.signature
                    """,
                arguments: [e.endorser, e.nodeID, e.timestamp, e.signature])
            if try Self.recomputeTrust(db, e.nodeID, now: now) { try noteChange(db, e.nodeID, now: now) }
            return try Self.entry(db, nodeID: e.nodeID)!
        }
    }

    // MARK: Chain state

    /// Node hashes of every stored node (the chain sync refreshes them).
    func nodeHashes() async throws -> [NodeHash] {
        try await pool.read { db in try NodeHash.fetchAll(db, sql: "SELECT node_hash FROM nodes") }
    }

    /// Saves chain state for a node hash and recomputes the trust of its node, if stored.
    /// Returns whether the node's trust or tier changed (a change row is then written).
    @discardableResult
    func updateChain(_ hash: NodeHash, _ state: ChainNodeState, now: Int64) async throws -> Bool {
        try await pool.write { db in
            try Self.saveChain(db, hash, state, now: now)
            guard let id = try String.fetchOne(db, sql: "SELECT node_id FROM nodes WHERE node_hash = ?", arguments: [hash.hex])
            else { return false }
            let changed = try Self.recomputeTrust(db, id, now: now)
            if changed { try noteChange(db, id, now: now) }
            // Its endorsements count only while it is verified or staked: re-score the
            // nodes it endorsed.
            for endorsed in try String.fetchAll(
                db, sql: "SELECT node_id FROM endorsements WHERE endorser = ?", arguments: [id])
            where try Self.recomputeTrust(db, endorsed, now: now) {
                try noteChange(db, endorsed, now: now)
            }
            return changed
        }
    }

    /// Recomputes every node's trust (uptime decays with time); returns how many changed.
    func recomputeAll(now: Int64) async throws -> Int {
        try await pool.write { db in
            var n = 0
            for id in try String.fetchAll(db, sql: "SELECT node_id FROM nodes") where try Self.recomputeTrust(db, id, now: now) {
                try noteChange(db, id, now: now)
                n += 1
            }
            return n
        }
    }

    // MARK: Change feed

    /// Changes after `since`. A cursor older than what the feed keeps (`0 < since <
    /// pruned`) is a 410 `resync`; `since = 0` reads from the oldest row kept.
    func changes(since: Int64, limit: Int) async throws -> ChangePage {
        try await pool.read { db in
            let pruned = try Int64.fetchOne(db, sql: "SELECT value FROM feed_meta WHERE key = 'pruned_through'") ?? 0
            if since > 0 && since < pruned {
                throw APIError(
                    status: 410, code: "resync",
                    detail: "cursor \(since) is older than the change feed keeps (changes up to \(pruned) were dropped): "
                        + "refetch what you cache, then follow from the feed's end (since=0)")
            }
            let rows = try Row.fetchAll(
                db, sql: "SELECT cursor, node_id FROM changes WHERE cursor > ? ORDER BY cursor LIMIT ?",
                arguments: [since, limit])
            let changes = rows.map { ChangePage.Change(cursor: UInt64($0["cursor"] as Int64), nodeID: $0["node_id"]) }
            return ChangePage(changes: changes, next: changes.last?.cursor ?? UInt64(since))
        }
    }

    // MARK: Export

    /// Up to `limit` entries whose node hash sorts after `after` (nil: from the first),
    /// in node-hash order: keyset pagination on the unique `node_hash` column, so a walk
    /// while writes happen sees every node stored throughout exactly once (as stored
    /// when its page was read) and never skips one. `next` is nil after the last page.
    func export(after: NodeHash?, limit: Int) async throws -> NodeExportPage {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: Self.entryColumns + " WHERE n.node_hash > ? ORDER BY n.node_hash LIMIT ?"),
                arguments: [after?.hex ?? "", limit])
            let entries = try rows.map { row in try Self.entry(row, record: Self.storedRecord(row["record"])) }
            return NodeExportPage(entries: entries, next: entries.count == limit ? entries.last?.nodeHash : nil)
        }
    }

    // MARK: - Inside a transaction

    /// What an entry is read from (one node: `WHERE n.node_id = ?`; the export: a range of hashes).
    private static let entryColumns = """
        SELECT n.record, n.node_hash, n.trust, n.tier, n.updated_at,
               c.registered, c.verified, c.stake_wei,
               (SELECT MAX(ts) FROM heartbeats h WHERE h.node_id = n.node_id) AS last_heartbeat
        FROM nodes n LEFT JOIN chain_nodes c ON c.node_hash = n.node_hash
        """

    /// The entry of `nodeID`; `record`, when the caller has the stored record at hand,
    /// saves decoding its JSON again.
    private static func entry(_ db: Database, nodeID: String, record: NodeMetadata? = nil) throws -> RegistryEntry? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: entryColumns + " WHERE n.node_id = ?"), arguments: [nodeID])
        else { return nil }
        let record = try record ?? storedRecord(row["record"])
        return entry(row, record: record)
    }

    private static func entry(_ row: Row, record: NodeMetadata) -> RegistryEntry {
        // By position (`entryColumns`' order): a lookup by name lowercases the name per column.
        RegistryEntry(
            record: record, nodeHash: row[1], trust: row[2], tier: row[3],
            registered: (row[5] as Bool?) ?? false, verified: (row[6] as Bool?) ?? false,
            stakeWei: (row[7] as String?) ?? "0", updatedAt: row[4],
            lastHeartbeat: row[8] as Int64?)
    }

    private static func hasRecord(_ db: Database, _ nodeID: String) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM nodes WHERE node_id = ?"), arguments: [nodeID]) ?? false
    }

    private static func publicKey(_ db: Database, _ nodeID: String) throws -> Ed25519PublicKey? {
        guard let json = try String.fetchOne(db, sql: "SELECT record FROM nodes WHERE node_id = ?", arguments: [nodeID])
        else { return nil }
        return Ed25519PublicKey(pem: try storedRecord(json).publicKey)
    }

    /// A stored record's JSON (written by `RegistryJSON.encode`) read back: one pass, no
    /// Foundation; `JSONDecoder` only for what the fast reader leaves (rows written by
    /// older builds are the same JSON).
    static func storedRecord(_ json: String) throws -> NodeMetadata {
        var json = json
        if let record = json.withUTF8({ RegistryJSON.decodeRecord($0) }) { return record }
        return try JSONDecoder().decode(NodeMetadata.self, from: Data(json.utf8))
    }

    static func checkSkew(_ ts: Int64, now: Int64) throws {
        guard Trust.isWithin(maxClockSkew, ts, of: now) else {
            throw APIError.badRequest("clock_skew", "timestamp \(ts) differs from registry time \(now) by more than \(maxClockSkew) s")
        }
    }

    private static func saveChain(_ db: Database, _ hash: NodeHash, _ s: ChainNodeState, now: Int64) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO chain_nodes (node_hash, registered, wallet, dns_name, verified, stake_wei, checked_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(node_hash) DO UPDATE SET registered = excluded.registered, wallet = excluded.wallet,
                    dns_name = excluded.dns_name, verified = excluded.verified, stake_wei = excluded.stake_wei,
                    checked_at = excluded.checked_at
                """
        ).execute(arguments: [hash.hex, s.registered, s.wallet, s.dnsName, s.verified, s.stakeWei.digits, now])
    }

    /// Recomputes and stores one node's trust and tier; true when either changed.
    private static func recomputeTrust(_ db: Database, _ nodeID: String, now: Int64) throws -> Bool {
        guard let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT n.trust, n.tier, c.registered, c.verified, c.stake_wei FROM nodes n
                    LEFT JOIN chain_nodes c ON c.node_hash = n.node_hash WHERE n.node_id = ?
                    """), arguments: [nodeID])
        else { return false }
        let beats = try Int64.fetchAll(
            db.cachedStatement(sql: "SELECT ts FROM heartbeats WHERE node_id = ?"), arguments: [nodeID])
        let endorsers = try Self.countingEndorsers(db, nodeID)
        // By position, as selected: n.trust, n.tier, c.registered, c.verified, c.stake_wei.
        let registered = (row[2] as Bool?) ?? false
        let verified = registered && ((row[3] as Bool?) ?? false)
        let inputs = TrustInputs(
            verified: verified, stakeWei: UInt256Decimal((row[4] as String?) ?? "0") ?? .zero,
            uptime: Trust.uptime(heartbeats: beats, now: now), endorsers: endorsers)
        let score = registered ? Trust.score(inputs) : 0
        let tier = Trust.tier(verified: verified, registered: registered, score: score)
        guard score != row[0] as Int || tier != row[1] as String else { return false }
        try db.cachedStatement(sql: "UPDATE nodes SET trust = ?, tier = ? WHERE node_id = ?")
            .execute(arguments: [score, tier, nodeID])
        return true
    }

    /// Endorsers of `nodeID` that count now: other nodes, with a record here, whose last
    /// seen chain state is registered and verified or staked (`Trust.countsAsEndorser`).
    private static func countingEndorsers(_ db: Database, _ nodeID: String) throws -> Int {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT c.registered, c.verified, c.stake_wei FROM endorsements e
                    JOIN nodes n ON n.node_id = e.endorser
                    JOIN chain_nodes c ON c.node_hash = n.node_hash
                    WHERE e.node_id = ? AND e.endorser != ?
                    """), arguments: [nodeID, nodeID])
        return rows.filter { row in
            Trust.countsAsEndorser(
                registered: row["registered"], verified: row["verified"],
                stakeWei: UInt256Decimal(row["stake_wei"] as String) ?? .zero)
        }.count
    }

    private func noteChange(_ db: Database, _ nodeID: String, now: Int64) throws {
        try db.cachedStatement(sql: "INSERT INTO changes (node_id, at) VALUES (?, ?)").execute(arguments: [nodeID, now])
        try pruneChanges(db, lastCursor: db.lastInsertedRowID)
    }

    private func pruneChanges(_ db: Database, lastCursor: Int64) throws {
        // Keep the last `changesRetain` rows (cursors are AUTOINCREMENT: contiguous but
        // for rolled-back transactions, never reused).
        let horizon = lastCursor - changesRetain
        guard horizon > 0 else { return }
        try db.cachedStatement(sql: "DELETE FROM changes WHERE cursor <= ?").execute(arguments: [horizon])
        try db.cachedStatement(
            sql: """
                INSERT INTO feed_meta (key, value) VALUES ('pruned_through', ?)
                ON CONFLICT(key) DO UPDATE SET value = MAX(value, excluded.value)
                """
        ).execute(arguments: [horizon])
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
