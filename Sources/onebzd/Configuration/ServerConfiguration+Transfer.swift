import DNSEngine
import DNSWire
import Foundation
import NodeRegistry
import TOMLConfiguration
import ZoneTransfer

extension ServerConfiguration {
    /// `[transfer]`: who may transfer the zone, with which TSIG keys, whom to NOTIFY.
    package struct Transfer: Sendable, Equatable {
        /// BIND-syntax key files (`key "NAME" { algorithm hmac-sha256; secret "..."; };`).
        package var tsigKeyFiles: [String] = []
        /// `[[transfer.allow]]`; empty: every transfer is REFUSED.
        package var allow: [Allow] = []
        /// `[[transfer.notify]]`: secondaries told of every serial change.
        package var notify: [Notify] = []
        package var notifyRetry: Duration = .seconds(1)
        package var notifyMaxRetry: Duration = .seconds(60)
        /// Journal bounds of the materialised zone (IXFR); older serials get AXFR-style answers.
        package var journalMaxVersions = 1000
        package var journalMaxAge: Duration = .seconds(86_400)

        package struct Allow: Sendable, Equatable {
            /// Text as written (`10.53.0.0/24`), validated.
            package var address: String
            /// The TSIG key required; nil: none (written `key = ""`).
            package var key: String?
            /// `transport = "tls"`: only over DoT (XoT, RFC 9103); "any" (the default)
            /// also over UDP and plain TCP.
            package var requiresTLS = false
            /// `client_spki_sha256`: mutual TLS, the client certificate's key pin.
            package var clientKeySHA256: [UInt8]?

            package init(address: String, key: String?, requiresTLS: Bool = false, clientKeySHA256: [UInt8]? = nil) {
                self.address = address
                self.key = key
                self.requiresTLS = requiresTLS
                self.clientKeySHA256 = clientKeySHA256
            }
        }

        package struct Notify: Sendable, Equatable {
            package var address: HostPort
            package var key: String?
        }

        package init() {}

        /// Whether transfers are served at all.
        package var isEnabled: Bool { !allow.isEmpty }
    }

    static func transfer(_ t: TableReader) throws(ConfigurationError) -> Transfer {
        try t.onlyKeys([
            "tsig_key_files", "allow", "notify", "notify_retry", "notify_max_retry", "journal_max_versions",
            "journal_max_age",
        ])
        var transfer = Transfer()
        if let v = try t.strings("tsig_key_files") { transfer.tsigKeyFiles = v }
        for (index, entry) in try t.tables("allow").enumerated() {
            try entry.onlyKeys(["address", "key", "transport", "client_spki_sha256"])
            let address = try entry.required(entry.string("address"), "address")
            var allow = Transfer.Allow(
                address: try allowPrefix(address, key: entry.key("address")), key: try requiredKey(entry, index: index))
            switch try entry.string("transport") {
            case nil, "any"?: break
            case "tls"?: allow.requiresTLS = true
            case let other?:
                throw ConfigurationError(key: entry.key("transport"), "must be \"tls\" or \"any\", not \"\(other)\"")
            }
            if let pin = try entry.string("client_spki_sha256") {
                do { allow.clientKeySHA256 = try SPKIPin(base64: pin).sha256 } catch {
                    throw ConfigurationError(key: entry.key("client_spki_sha256"), "\(error)")
                }
                // A pin is only checkable over TLS.
                allow.requiresTLS = true
            }
            transfer.allow.append(allow)
        }
        for entry in try t.tables("notify") {
            try entry.onlyKeys(["address", "key"])
            guard let address = try entry.hostPort("address") else {
                throw ConfigurationError(key: entry.key("address"), "is required in [[transfer.notify]]")
            }
            let key = try entry.string("key")
            transfer.notify.append(Transfer.Notify(address: address, key: key?.isEmpty == true ? nil : key))
        }
        if let v = try t.duration("notify_retry") {
            guard v > .zero else { throw ConfigurationError(key: t.key("notify_retry"), "must be positive") }
            transfer.notifyRetry = v
        }
        if let v = try t.duration("notify_max_retry") { transfer.notifyMaxRetry = v }
        guard transfer.notifyMaxRetry >= transfer.notifyRetry else {
            throw ConfigurationError(key: t.key("notify_max_retry"), "must not be shorter than notify_retry")
        }
        if let v = try t.int("journal_max_versions", min: 0) { transfer.journalMaxVersions = v }
        if let v = try t.duration("journal_max_age") { transfer.journalMaxAge = v }
        return transfer
    }

    /// `key` is required in an allow entry: a name, or `""` to allow unsigned transfers
    /// from the prefix explicitly (NSD's NOKEY), so a forgotten key never opens the zone.
    private static func requiredKey(_ entry: TableReader, index: Int) throws(ConfigurationError) -> String? {
        guard let key = try entry.string("key") else {
            throw ConfigurationError(
                key: entry.key("key"),
                "is required: the TSIG key name, or \"\" to allow unsigned transfers from this address")
        }
        return key.isEmpty ? nil : key
    }

    /// An IPv4/IPv6 address or CIDR prefix, or an error naming `key`.
    package static func allowPrefix(_ text: String, key: String) throws(ConfigurationError) -> String {
        guard AddressPrefix(text) != nil else {
            throw ConfigurationError(key: key, "\"\(text)\" is not an address or prefix like 10.53.0.0/24 or ::1/128")
        }
        return text
    }
}

extension TableReader {
    /// An array of tables (`[[transfer.allow]]`), each named `path.name[i]` in errors.
    func tables(_ name: String) throws(ConfigurationError) -> [TableReader] {
        guard let value = table[name] else { return [] }
        guard let array = value.array else {
            throw ConfigurationError(key: key(name), "must be an array of tables ([[\(key(name))]])")
        }
        var out: [TableReader] = []
        for (index, item) in array.enumerated() {
            guard let entry = item.table else {
                throw ConfigurationError(key: "\(key(name))[\(index)]", "must be a table")
            }
            out.append(TableReader(entry, path: "\(key(name))[\(index)]"))
        }
        return out
    }
}

/// `[transfer]` made real: the key files read, every named key found.
package struct TransferSetup: Sendable {
    package let keys: TSIGKeyring
    package let acl: TransferACL
    package let notifyTargets: [(address: HostPort, key: TSIGKey?)]

    package init(_ transfer: ServerConfiguration.Transfer) throws(ConfigurationError) {
        var all: [TSIGKey] = []
        for (index, path) in transfer.tsigKeyFiles.enumerated() {
            do {
                all += try TSIGKeyFile.load(path: path)
            } catch {
                throw ConfigurationError(key: "transfer.tsig_key_files[\(index)]", "\(error)")
            }
        }
        let keys = TSIGKeyring(all)
        func find(_ name: String?, key: String) throws(ConfigurationError) -> TSIGKey? {
            guard let name else { return nil }
            guard let parsed = try? Name(name.hasSuffix(".") ? name : name + "."), let found = keys[parsed] else {
                throw ConfigurationError(key: key, "no key named \"\(name)\" in transfer.tsig_key_files")
            }
            return found
        }
        var entries: [TransferACL.Entry] = []
        for (index, allow) in transfer.allow.enumerated() {
            let key = try find(allow.key, key: "transfer.allow[\(index)].key")
            // Validated when the configuration was read.
            guard let prefix = AddressPrefix(allow.address) else { continue }
            entries.append(
                TransferACL.Entry(
                    prefix: prefix, key: key?.name, requiresTLS: allow.requiresTLS,
                    clientKeySHA256: allow.clientKeySHA256))
        }
        var targets: [(address: HostPort, key: TSIGKey?)] = []
        for (index, notify) in transfer.notify.enumerated() {
            targets.append((notify.address, try find(notify.key, key: "transfer.notify[\(index)].key")))
        }
        self.keys = keys
        self.acl = TransferACL(entries)
        self.notifyTargets = targets
    }
}
