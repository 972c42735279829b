import DNSWire
import Foundation
import SecretFile

/// A key in BIND's key-file format (`K<zone>+<alg>+<tag>.key` with the DNSKEY RR,
/// `.private` with `Private-key-format: v1.x`), as `dnssec-keygen`, `ldns-keygen` and
/// Knot's `keymgr` read and write them. Timing fields (`Publish`, `Activate`,
/// `Inactive`, `Delete`, RFC-less but BIND's) say when a key is in the DNSKEY RRset and
/// when it signs.
public struct BINDKeyFile: Sendable {
    public let zone: Name
    public let key: SigningKey
    /// Unix times of BIND's timing metadata (nil: not set).
    public var created: UInt32?
    public var publish: UInt32?
    public var activate: UInt32?
    public var inactive: UInt32?
    public var delete: UInt32?

    public init(zone: Name, key: SigningKey, created: UInt32? = nil) {
        self.zone = zone.lowercased
        self.key = key
        self.created = created
        self.publish = created
        self.activate = created
    }

    /// `K1bz.+013+12345` (the name both files share, without the suffix).
    public var baseName: String {
        let alg = String(key.algorithm.rawValue).leftPadded(3)
        let tag = String(key.keyTag).leftPadded(5)
        return "K\(zone.description)+\(alg)+\(tag)"
    }

    /// Whether the key is in the DNSKEY RRset at `now`.
    public func isPublished(at now: UInt32) -> Bool {
        (publish.map { $0 <= now } ?? true) && !(delete.map { $0 <= now } ?? false)
    }

    /// Whether the key signs at `now`.
    public func isActive(at now: UInt32) -> Bool {
        isPublished(at: now) && (activate.map { $0 <= now } ?? true) && !(inactive.map { $0 <= now } ?? false)
    }

    // MARK: Writing

    public var publicFileText: String {
        let kind = key.isSecureEntryPoint ? "key-signing" : "zone-signing"
        return """
            ; This is a \(kind) key, keyid \(key.keyTag), for \(zone.description)
            \(zone.description) IN DNSKEY \(key.flags) 3 \(key.algorithm.rawValue) \(Data(key.publicKey).base64EncodedString())

            """
    }

    public var privateFileText: String {
        var text = """
            Private-key-format: v1.3
            Algorithm: \(key.algorithm.rawValue) (\(key.algorithm.mnemonic))
            PrivateKey: \(Data(key.privateKeyBytes).base64EncodedString())

            """
        let fields: [(String, UInt32?)] = [
            ("Created", created), ("Publish", publish), ("Activate", activate), ("Inactive", inactive),
            ("Delete", delete),
        ]
        for case (let name, let time?) in fields { text += "\(name): \(Self.timestamp(time))\n" }
        return text
    }

    /// Writes both files into `directory` (the private one readable by the owner only
    /// from its creation; a missing directory is created mode 0700).
    public func write(to directory: String) throws(DNSSECError) {
        let base = (directory as NSString).appendingPathComponent(baseName)
        do {
            try SecretFile.createPrivateDirectory(directory)
            try SecretFile.write(base + ".private", text: privateFileText)
        } catch {
            throw DNSSECError("cannot write the private key: \(error)")
        }
        guard FileManager.default.createFile(atPath: base + ".key", contents: Data(publicFileText.utf8)) else {
            throw DNSSECError("cannot write \(base).key")
        }
    }

    // MARK: Reading

    /// Reads `<base>.private` and `<base>.key` (`path` is either file or the base).
    public init(path: String) throws(DNSSECError) {
        var base = path
        for suffix in [".private", ".key"] where base.hasSuffix(suffix) { base = String(base.dropLast(suffix.count)) }
        let privatePath = base + ".private"
        let publicPath = base + ".key"
        try self.init(
            privateText: try Self.read(privatePath), publicText: try Self.read(publicPath), privatePath: privatePath,
            publicPath: publicPath)
    }

    /// Parses the texts of a `.private` and a `.key` file (the paths name them in errors).
    public init(
        privateText: String, publicText: String, privatePath: String = "<key>.private", publicPath: String = "<key>.key"
    ) throws(DNSSECError) {
        func fail(_ file: String, _ why: String) -> DNSSECError { DNSSECError("\(file): \(why)") }

        var fields: [String: String] = [:]
        for line in privateText.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon]).trimmingCharacters(in: .whitespaces)] = String(
                line[line.index(after: colon)...]
            ).trimmingCharacters(in: .whitespaces)
        }
        guard fields["Private-key-format"]?.hasPrefix("v1.") == true else {
            throw fail(privatePath, "not a BIND private key file (no Private-key-format: v1.x)")
        }
        guard let algText = fields["Algorithm"]?.split(separator: " ").first, let algNumber = UInt8(algText) else {
            throw fail(privatePath, "no Algorithm line")
        }
        let algorithm = DNSSECAlgorithm(rawValue: algNumber)
        guard let keyText = fields["PrivateKey"], let keyData = Data(base64Encoded: keyText) else {
            throw fail(privatePath, "no PrivateKey line with base64 key material (algorithm \(algNumber) is not supported; use 13 or 15)")
        }

        // The DNSKEY RR: [owner] [ttl] [class] DNSKEY flags 3 alg base64...
        let record = publicText.split(whereSeparator: \.isNewline).map {
            $0.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        }.first { $0.split(whereSeparator: \.isWhitespace).contains { $0.uppercased() == "DNSKEY" } }
        guard let record else { throw fail(publicPath, "no DNSKEY record") }
        let tokens = record.split(whereSeparator: \.isWhitespace).map(String.init)
        guard let owner = tokens.first, let zone = try? Name(owner),
            let at = tokens.firstIndex(where: { $0.uppercased() == "DNSKEY" }), tokens.count >= at + 5,
            let flags = UInt16(tokens[at + 1]), tokens[at + 2] == "3", UInt8(tokens[at + 3]) == algNumber,
            let publicKey = Data(base64Encoded: tokens[(at + 4)...].joined())
        else { throw fail(publicPath, "the DNSKEY record is malformed or its algorithm differs from the .private file") }

        let key: SigningKey
        do { key = try SigningKey(algorithm: algorithm, flags: flags, privateKey: Array(keyData)) } catch {
            throw fail(privatePath, error.description)
        }
        guard key.publicKey == Array(publicKey) else {
            throw fail(publicPath, "the public key does not belong to the private key in \(privatePath)")
        }
        self.zone = zone.lowercased
        self.key = key
        created = fields["Created"].flatMap(Self.parseTimestamp)
        publish = fields["Publish"].flatMap(Self.parseTimestamp)
        activate = fields["Activate"].flatMap(Self.parseTimestamp)
        inactive = fields["Inactive"].flatMap(Self.parseTimestamp)
        delete = fields["Delete"].flatMap(Self.parseTimestamp)
    }

    /// Every key of `zone` in `directory` (`K<zone>+*.private`), sorted by key tag.
    public static func load(directory: String, zone: Name) throws(DNSSECError) -> [BINDKeyFile] {
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw DNSSECError("\(directory): cannot read the key directory (\(error.localizedDescription))")
        }
        let prefix = "k\(zone.lowercased.description)+"
        var keys: [BINDKeyFile] = []
        for entry in entries.sorted() where entry.lowercased().hasPrefix(prefix) && entry.hasSuffix(".private") {
            keys.append(try BINDKeyFile(path: (directory as NSString).appendingPathComponent(entry)))
        }
        return keys.sorted { $0.key.keyTag < $1.key.keyTag }
    }

    private static func read(_ path: String) throws(DNSSECError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw DNSSECError("\(path): cannot read") }
        guard let text = String(data: data, encoding: .utf8) else { throw DNSSECError("\(path): not UTF-8 text") }
        return text
    }

    /// `YYYYMMDDHHMMSS` (UTC), as BIND writes timing metadata.
    public static func timestamp(_ time: UInt32) -> String {
        var seconds = time_t(time)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d%02d%02d%02d%02d%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
            parts.tm_min, parts.tm_sec)
    }

    public static func parseTimestamp(_ text: String) -> UInt32? {
        let digits = text.prefix(14)
        // ASCII digits only: `isNumber` also holds for "½", "٣" or a digit with a combining
        // mark, which Int32 does not parse (a crash found by scripts/fuzz bind-key).
        guard digits.count == 14, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        func field(_ from: Int, _ length: Int) -> Int32 {
            Int32(digits.dropFirst(from).prefix(length))!
        }
        var parts = tm()
        parts.tm_year = field(0, 4) - 1900
        parts.tm_mon = field(4, 2) - 1
        parts.tm_mday = field(6, 2)
        parts.tm_hour = field(8, 2)
        parts.tm_min = field(10, 2)
        parts.tm_sec = field(12, 2)
        let value = timegm(&parts)
        return value >= 0 && value <= Int(UInt32.max) ? UInt32(value) : nil
    }
}
