import ArgumentParser
import AsyncHTTPClient
import ChainReader
import Foundation
import NIOCore
import NodeRegistry

/// `onebz verify shashi.1bz --gateway URL --rpc URL`: fetches the gateway's answer with its
/// evidence (`/resolve?name=...&proof=1`) and checks it against a JSON-RPC endpoint of the
/// user's choice: the block hash and state root come from that endpoint, the storage
/// proofs must lead from that root to the gateway's node hash, wallet and verified flag,
/// and the addresses must be the node's own signed record.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a gateway's answer for a 1bz name against your own chain endpoint (storage proofs).")

    @Argument(help: "The name, e.g. shashi.1bz (or <64 hex>.1bz).")
    var name: String

    @Option(help: "onebzd's HTTP gateway, e.g. http://127.0.0.1:8053.")
    var gateway: String

    @Option(help: "A JSON-RPC endpoint you trust for block hashes and state roots (URL, env:NAME or @FILE).")
    var rpc: String

    /// The /resolve answer: the claims, and the bundle that should back them.
    struct Answer: Decodable {
        var nodeHash: String
        var wallet: String
        var verified: Bool
        var ipv4: [String]
        var ipv6: [String]
        var block: UInt64
        var proof: ProofBundle

        enum CodingKeys: String, CodingKey {
            case wallet, verified, ipv4, ipv6, block, proof
            case nodeHash = "node_hash"
        }
    }

    func run() async throws {
        let rpcURL: URL
        do { rpcURL = try RPCURLArgument.resolve(rpc, flag: "--rpc") } catch { throw CLIError(error.description) }
        let answer = try await fetch()
        let bundle = answer.proof
        guard let header = try await JSONRPCClient(url: rpcURL).block(.number(bundle.block.number)) else {
            throw CLIError("your endpoint has no block \(bundle.block.number) (yet?)")
        }
        let checked: ProofBundle.Checked
        do { checked = try bundle.check(against: header) } catch { throw CLIError("REJECTED: \(error)") }
        var problems: [String] = []
        if answer.nodeHash.lowercased() != checked.nodeHash.hex { problems.append("node hash \(answer.nodeHash)") }
        if answer.wallet.lowercased() != checked.node.wallet.hex { problems.append("wallet \(answer.wallet)") }
        if answer.verified != checked.node.verified { problems.append("verified \(answer.verified)") }
        if answer.block != bundle.block.number { problems.append("block \(answer.block)") }
        let v4 = checked.record?.ipv4 ?? []
        let v6 = checked.record?.ipv6 ?? []
        if Set(answer.ipv4) != Set(v4) || Set(answer.ipv6) != Set(v6) {
            problems.append("addresses \(answer.ipv4 + answer.ipv6) (the signed record says \(v4 + v6))")
        }
        guard problems.isEmpty else {
            throw CLIError("REJECTED: the gateway's claims differ from what the proofs show: "
                + problems.joined(separator: ", "))
        }
        print("proof checked at block \(bundle.block.number) (\(bundle.block.hash.hex), from \(rpcURL.host ?? "?"))")
        print("name:     \(bundle.name ?? name)")
        print("nodeHash: \(checked.nodeHash.hex)")
        print("wallet:   \(checked.node.wallet.hex)")
        print("verified: \(checked.node.verified ? "yes" : "no")")
        print("stake:    \(checked.node.stakeAmount) wei")
        print("record:   \(checked.record.map { "signed by node \($0.nodeID.hex), seq \($0.seq)" } ?? "none")")
        print("address:  \((v4 + v6).joined(separator: " "))")
    }

    private func fetch() async throws -> Answer {
        var base = gateway
        while base.hasSuffix("/") { base.removeLast() }
        let query = name.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? name
        let request = HTTPClientRequest(url: "\(base)/resolve?name=\(query)&proof=1")
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await JSONRPCClient.sharedHTTPClient.execute(request, timeout: .seconds(15))
            body = try await response.body.collect(upTo: 4 << 20)
        } catch { throw CLIError("cannot reach the gateway \(base): \(error)") }
        guard response.status.code == 200 else {
            throw CLIError("the gateway answered HTTP \(response.status.code): \(String(buffer: body).prefix(300))")
        }
        do { return try JSONDecoder().decode(Answer.self, from: Data(buffer: body)) } catch {
            throw CLIError("the gateway's answer has no usable proof bundle: \(error)")
        }
    }
}
