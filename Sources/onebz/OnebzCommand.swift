import ArgumentParser
import Foundation
import NodeRegistry

@main
struct OnebzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onebz",
        abstract: "1bz node tool: node ids and names, signed metadata, registry publishing.",
        subcommands: [
            IDCommand.self, SignCommand.self, PublishCommand.self, HeartbeatCommand.self, EndorseCommand.self,
            VerifyCommand.self,
        ])
}

/// Options naming a node's addresses and the record's sequence number.
struct RecordOptions: ParsableArguments {
    @Option(name: .customLong("ipv4"), help: "IPv4 address (repeatable).")
    var ipv4: [String] = []

    @Option(name: .customLong("ipv6"), help: "IPv6 address (repeatable).")
    var ipv6: [String] = []

    @Option(help: "Sequence number (must increase with each publish; default: current Unix time).")
    var seq: UInt64?

    func record(key: Ed25519PrivateKey) throws -> NodeMetadata {
        do {
            return try NodeMetadata.signed(
                by: key, ipv4: ipv4, ipv6: ipv6, seq: seq ?? UInt64(Date().timeIntervalSince1970))
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
    @Option(help: "The node's Ed25519 private key: unencrypted PKCS#8 PEM.")
    var key: String

    func load() throws -> Ed25519PrivateKey {
        let text: String
        do { text = try String(contentsOfFile: key, encoding: .utf8) } catch {
            throw CLIError("cannot read \(key): \(error.localizedDescription)")
        }
        do { return try Ed25519PrivateKey(pem: text) } catch { throw CLIError("\(key): \(error)") }
    }
}

struct RegistryOption: ParsableArguments {
    @Option(help: "Registry base URL, e.g. http://127.0.0.1:8080.")
    var registry: String

    var client: RegistryClient { RegistryClient(baseURL: registry, timeout: .seconds(10)) }
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
                Data("warning: the file is not the canonical PEM; the registry and DNS use node_id \(key.nodeID.hex)\n".utf8))
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
        do { try printJSON(try await registry.client.publish(record)) } catch let e as RegistryClientError {
            throw CLIError("publish failed: \(e)")
        }
    }
}

struct HeartbeatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartbeat", abstract: "Send a signed heartbeat (POST /v1/verify) and print the node's entry.")

    @OptionGroup var registry: RegistryOption
    @OptionGroup var key: KeyOption

    func run() async throws {
        let hb = Heartbeat.signed(by: try key.load(), timestamp: Int64(Date().timeIntervalSince1970))
        do { try printJSON(try await registry.client.heartbeat(hb)) } catch let e as RegistryClientError {
            throw CLIError("heartbeat failed: \(e)")
        }
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
        let e = Endorsement.signed(by: try key.load(), endorsing: target, timestamp: Int64(Date().timeIntervalSince1970))
        do { try printJSON(try await registry.client.endorse(e)) } catch let e as RegistryClientError {
            throw CLIError("endorse failed: \(e)")
        }
    }
}
