import NIOCore

/// Which node a connection was made to, and which key it proved: a connection is reused
/// only for the same address, port, name and validated TLSA digests (nil: plain HTTP).
struct NodeKey: Hashable, Sendable {
    var address: String
    var port: Int
    var serverName: String
    var spkiSHA256: [[UInt8]]?
}

/// The idle connections to nodes, as a pure state machine (no I/O, time passed in): what
/// to hand out, what to keep, what the caller must close. Caps: `maxPerKey` idle
/// connections per node key, `maxTotal` in all, each kept at most `idleTime`. When the
/// validated key (TLSA, address or port) for a name changes, the connections made under the
/// old one are closed: they proved a key the zone no longer publishes.
struct IdlePool<Connection: Hashable> {
    let maxPerKey: Int
    let maxTotal: Int
    let idleTime: TimeAmount

    private var idle: [NodeKey: [(connection: Connection, since: NIODeadline)]] = [:]
    /// The key last asked for per name.
    private var current: [String: NodeKey] = [:]
    private(set) var count = 0

    init(maxPerKey: Int, maxTotal: Int, idleTime: TimeAmount) {
        self.maxPerKey = maxPerKey
        self.maxTotal = maxTotal
        self.idleTime = idleTime
    }

    /// An idle connection for `key` (the most recently used), if one is fresh, and the
    /// connections the caller must close (expired ones, and those of a name's old key).
    /// `usable` says whether a connection is still open.
    mutating func checkout(_ key: NodeKey, now: NIODeadline, usable: (Connection) -> Bool) -> (Connection?, close: [Connection]) {
        var close: [Connection] = []
        if let old = current[key.serverName], old != key { close += removeAll(old) }
        current[key.serverName] = key
        while var list = idle[key], let last = list.popLast() {
            idle[key] = list.isEmpty ? nil : list
            count -= 1
            if last.since + idleTime > now && usable(last.connection) { return (last.connection, close) }
            close.append(last.connection)
        }
        return (nil, close)
    }

    /// A connection whose exchange has ended cleanly; returns what to close (it, when it
    /// may not be kept; else perhaps the oldest idle one, to stay within the caps).
    mutating func checkin(_ connection: Connection, key: NodeKey, now: NIODeadline) -> [Connection] {
        guard current[key.serverName] == key, maxPerKey > 0, maxTotal > 0 else { return [connection] }
        var close: [Connection] = []
        var list = idle[key] ?? []
        if list.count >= maxPerKey {
            close.append(list.removeFirst().connection)
            count -= 1
        }
        list.append((connection, now))
        idle[key] = list
        count += 1
        if count > maxTotal, let oldest = oldestKey() {
            close.append(idle[oldest]!.removeFirst().connection)
            if idle[oldest]!.isEmpty { idle[oldest] = nil }
            count -= 1
        }
        return close
    }

    /// The connections idle for `idleTime` or longer, removed.
    mutating func expire(now: NIODeadline) -> [Connection] {
        var close: [Connection] = []
        for (key, list) in idle {
            let kept = list.filter { $0.since + idleTime > now }
            guard kept.count != list.count else { continue }
            close += list.filter { $0.since + idleTime <= now }.map(\.connection)
            idle[key] = kept.isEmpty ? nil : kept
            count -= list.count - kept.count
        }
        return close
    }

    /// Every idle connection, removed (shutdown).
    mutating func drain() -> [Connection] {
        let all = idle.values.flatMap { $0.map(\.connection) }
        idle = [:]
        count = 0
        return all
    }

    private mutating func removeAll(_ key: NodeKey) -> [Connection] {
        let list = idle.removeValue(forKey: key) ?? []
        count -= list.count
        return list.map(\.connection)
    }

    private func oldestKey() -> NodeKey? {
        idle.min { ($0.value.first?.since ?? .distantFuture) < ($1.value.first?.since ?? .distantFuture) }?.key
    }
}

extension IdlePool: Sendable where Connection: Sendable {}
