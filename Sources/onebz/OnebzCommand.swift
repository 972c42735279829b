import ArgumentParser
import Foundation
import NodeRegistry

@main
struct OnebzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onebz",
        abstract:
            "1bz node tool: identity, on-chain registration, signed metadata, heartbeats, status, proof checks"
            + " (docs/operator.md, docs/chain.md).",
        subcommands: [
            InitCommand.self, IDCommand.self, RegisterCommand.self, VerifyOnchainCommand.self, StakeCommand.self,
            SignCommand.self, PublishCommand.self, HeartbeatCommand.self, EndorseCommand.self, StatusCommand.self,
            VerifyCommand.self, CertCommand.self,
        ])
}

/// Options naming a node's addresses, its services and the record's sequence number.
struct RecordOptions: ParsableArguments {
    @Option(name: .customLong("ipv4"), help: "IPv4 address (repeatable).")
    var ipv4: [String] = []

    @Option(name: .customLong("ipv6"), help: "IPv6 address (repeatable).")
    var ipv6: [String] = []

    @Option(help: "Sequence number (must increase with each publish; default: current Unix time).")
    var seq: UInt64?

    @Option(
        name: .customLong("https-port"),
        help: ArgumentHelp(
            "Declare an HTTPS service on this port (repeatable): DNS then publishes TLSA and HTTPS records"
                + " for it, matching the certificate `onebz cert` makes (docs/operator.md).",
            valueName: "port"))
    var httpsPorts: [Int] = []

    func record(key: Ed25519PrivateKey) throws -> NodeMetadata {
        do {
            return try NodeMetadata.signed(
                by: key, ipv4: ipv4, ipv6: ipv6, seq: seq ?? UInt64(Date().timeIntervalSince1970),
                services: httpsPorts.map { NodeService.https(port: $0) })
        } catch { throw CLIError("\(error)") }
    }
}

/// A failure while running (bad key file, registry refusal): printed as `Error: ...`
/// without the usage text that ArgumentParser adds to `ValidationError`.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct KeyOption: ParsableArguments {
    @Option(
        help:
            "The node's Ed25519 private key: PKCS#8 PEM, plain or encrypted (as identity.py and `onebz init` write it)."
    )
    var key: String

    @Option(
        name: .customLong("key-password-file"),
        help: "Password of an encrypted --key, from FILE (else ONEBZ_KEY_PASSWORD, else asked on the terminal).")
    var keyPasswordFile: String?

    private func text() throws -> String {
        do { return try String(contentsOfFile: key, encoding: .utf8) } catch {
            throw CLIError("cannot read \(key): \(error.localizedDescription)")
        }
    }

    func load() throws -> Ed25519PrivateKey {
        let text = try text()
        do {
            if text.contains("BEGIN ENCRYPTED PRIVATE KEY") {
                let password = try Secrets.password(
                    env: "ONEBZ_KEY_PASSWORD", file: keyPasswordFile, fileFlag: "--key-password-file",
                    prompt: "Password for \(key): ")
                return try EncryptedPrivateKey.decrypt(pem: text, password: password)
            }
            return try Ed25519PrivateKey(pem: text)
        } catch let error as KeyError { throw CLIError("\(key): \(error)") }
    }

    /// The node id without decrypting: from node_public.pem beside an encrypted key
    /// (identity.py's layout), else from the key itself.
    func nodeID() throws -> NodeID {
        if try text().contains("BEGIN ENCRYPTED PRIVATE KEY") {
            let sibling = URL(fileURLWithPath: key).deletingLastPathComponent().appendingPathComponent(
                "node_public.pem")
            if let bytes = FileManager.default.contents(atPath: sibling.path),
                Ed25519PublicKey(pem: String(decoding: bytes, as: UTF8.self)) != nil
            {
                return NodeID(publicKeyPEM: Array(bytes))
            }
        }
        return try load().publicKey.nodeID
    }
}

struct RegistryOption: ParsableArguments {
    @Option(help: "Registry base URL, e.g. http://127.0.0.1:8080 or https://registry.example.")
    var registry: String

    @Option(name: .customLong("registry-ca"), help: "HTTPS: trust only the certificates in this PEM file.")
    var registryCA: String?

    @Option(
        name: .customLong("registry-pin"),
        help: "HTTPS: base64 SHA-256 of the registry certificate's public key (as curl --pinnedpubkey sha256//...).")
    var registryPin: String?

    /// Runs `body` with a client for these options, shut down afterwards.
    func withClient<T>(_ body: (RegistryClient) async throws -> T) async throws -> T {
        let client = try Self.client(url: registry, ca: registryCA, pin: registryPin)
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// A client for `url`, checking its certificate against `ca` and/or `pin` when given
    /// (then `url` must be https://); errors name the flag.
    static func client(url: String, ca: String?, pin: String?) throws -> RegistryClient {
        guard ca != nil || pin != nil else { return RegistryClient(baseURL: url, timeout: .seconds(10)) }
        guard url.lowercased().hasPrefix("https://") else {
            throw ValidationError("--registry-ca and --registry-pin need an https:// --registry, not \(url)")
        }
        do {
            return RegistryClient(baseURL: url, timeout: .seconds(10), tls: try RegistryTLS.load(caFile: ca, pinBase64: pin))
        } catch {
            throw ValidationError("invalid \(error.setting == .pin ? "--registry-pin" : "--registry-ca"): \(error.problem)")
        }
    }
}

func printJSON(_ value: some Encodable) throws {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try e.encode(value), as: UTF8.self))
}

struct IDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "id", abstract: "Print the node_id, nodeHash and DNS names of a public key PEM.")

    @Argument(help: "Public key PEM file (SubjectPublicKeyInfo), as identity.py writes it.")
    var publicKey: String

    func run() throws {
        guard let bytes = FileManager.default.contents(atPath: publicKey) else {
            throw CLIError("cannot read \(publicKey)")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let key = Ed25519PublicKey(pem: text) else {
            throw CLIError("\(publicKey): not an Ed25519 public key PEM (-----BEGIN PUBLIC KEY-----)")
        }
        let id = NodeID(publicKeyPEM: Array(bytes))
        print("node_id:  \(id.hex)")
        print("nodeHash: \(id.nodeHash.hex)")
        print("dns:      \(id.dnsName)")
        print("pk:       ed25519:\(key.base64)")
        if key.pem != text {
            FileHandle.standardError.write(
                Data(
                    "warning: the file is not the canonical PEM; the registry and DNS use node_id \(key.nodeID.hex)\n"
                        .utf8))
        }
    }
}

struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign", abstract: "Print a signed metadata record (JSON) without publishing it.")

    @OptionGroup var key: KeyOption
    @OptionGroup var options: RecordOptions

    func run() throws { try printJSON(try options.record(key: try key.load())) }
}

struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish", abstract: "Sign a metadata record and PUT it to the registry.")

    @OptionGroup var registry: RegistryOption
    @OptionGroup var key: KeyOption
    @OptionGroup var options: RecordOptions

    func run() async throws {
        let record = try options.record(key: try key.load())
        do { try printJSON(try await registry.withClient { try await $0.publish(record) }) } catch let e as RegistryClientError {
            throw CLIError("publish failed: \(e)")
        }
    }
}

struct HeartbeatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartbeat",
        abstract: "Send a signed heartbeat (POST /v1/verify) and print the node's entry; with --every, keep sending.",
        discussion: """
            With --every the command runs until stopped (SIGINT/SIGTERM), one heartbeat per interval, \
            printing one line each; a failed heartbeat is reported and retried at the next interval. \
            deploy/onebz-heartbeat.{service,timer} run it under systemd.
            """)

    @OptionGroup var registry: RegistryOption
    @OptionGroup var key: KeyOption

    @Option(help: "Keep sending, one heartbeat per interval: 30s, 5m, 1h.")
    var every: String?

    func run() async throws {
        let signingKey = try key.load()
        guard let every else {
            let hb = Heartbeat.signed(by: signingKey, timestamp: Int64(Date().timeIntervalSince1970))
            do { try printJSON(try await registry.withClient { try await $0.heartbeat(hb) }) } catch let e as RegistryClientError {
                throw CLIError("heartbeat failed: \(e)")
            }
            return
        }
        guard let interval = Self.parseInterval(every) else {
            throw ValidationError("--every: not an interval: \(every) (e.g. 30s, 5m, 1h; at least 1s)")
        }
        note("heartbeat every \(every) for node \(signingKey.publicKey.nodeID.hex) to \(registry.registry)")
        try await registry.withClient { client in
            while !Task.isCancelled {
                let now = Int64(Date().timeIntervalSince1970)
                do {
                    let entry = try await client.heartbeat(Heartbeat.signed(by: signingKey, timestamp: now))
                    line("\(Self.timestamp(now)) heartbeat ok: trust \(entry.trust), tier \(entry.tier)")
                } catch {
                    line("\(Self.timestamp(now)) heartbeat failed: \(error) (next try in \(every))")
                }
                try await Task.sleep(for: interval)
            }
        }
    }

    /// One line straight to stdout (unbuffered: journald and pipes see it at once).
    private func line(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    static func parseInterval(_ text: String) -> Duration? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600]
        guard let unit = text.last, let factor = units[unit], let n = Int64(text.dropLast()), n > 0 else { return nil }
        return .seconds(n * factor)
    }

    static func timestamp(_ unix: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(unix)))
    }
}

struct EndorseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "endorse", abstract: "Endorse another registered node (POST /v1/endorse).")

    @OptionGroup var registry: RegistryOption
    @OptionGroup var key: KeyOption

    @Option(name: .customLong("node"), help: "node_id (64 hex) of the node to endorse.")
    var node: String

    func run() async throws {
        guard let target = NodeID(hex: node) else { throw ValidationError("--node must be 64 lowercase hex digits") }
        let e = Endorsement.signed(
            by: try key.load(), endorsing: target, timestamp: Int64(Date().timeIntervalSince1970))
        do { try printJSON(try await registry.withClient { try await $0.endorse(e) }) } catch let e as RegistryClientError {
            throw CLIError("endorse failed: \(e)")
        }
    }
}
