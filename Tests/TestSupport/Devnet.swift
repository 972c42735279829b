import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A devnet (scripts/devnet) started by a test on a free loopback port in a scratch
/// directory, stopped by PID (`stop()`, deinit, and the devnet's own
/// `--exit-with-parent` watch on this process). Plain Foundation: tests that use it do
/// not need ChainReader, and transactions go through eth_sendTransaction (the devnet's
/// accounts are unlocked), so no test needs Python.
public final class Devnet: Sendable {
    /// DIR/devnet.json.
    public struct Info: Decodable, Sendable {
        public let rpcURL: String
        public let contractAddress: String
        public let lookupAddress: String
        public let chainID: UInt64
        public let deployBlock: UInt64
        public let owner: String
        /// Funded, unlocked accounts; [0] is the owner, [1...3] own the sample nodes.
        public let accounts: [String]
        /// A funded account that is not unlocked: only its key (in the file at
        /// `devWalletKeyPath`, 0x + 64 hex) can spend from it, as an operator's wallet.
        public let devWallet: String?
        public let devWalletKeyPath: String?

        enum CodingKeys: String, CodingKey {
            case rpcURL = "rpc_url", contractAddress = "contract_address", lookupAddress = "lookup_address"
            case chainID = "chain_id", deployBlock = "deploy_block", owner, accounts
            case devWallet = "dev_wallet", devWalletKeyPath = "dev_wallet_key_path"
        }
    }

    /// One entry of DIR/sample-nodes.json.
    public struct SampleNode: Decodable, Sendable {
        public let name: String
        public let nodeID: String
        /// 0x + 64 hex.
        public let nodeHash: String
        public let publicPEM: String
        public let privateKeyPath: String
        public let encryptedPrivateKeyPath: String
        public let password: String
        public let wallet: String

        enum CodingKeys: String, CodingKey {
            case name, password, wallet
            case nodeID = "node_id", nodeHash = "node_hash", publicPEM = "public_pem"
            case privateKeyPath = "private_key_path", encryptedPrivateKeyPath = "encrypted_private_key_path"
        }
    }

    /// A mined transaction's receipt (the fields tests look at).
    public struct Receipt: Sendable {
        public let transactionHash: String
        public let blockNumber: UInt64
        public let blockHash: String
        public let succeeded: Bool
    }

    public let process: ManagedProcess
    public let port: Int
    public let stateDirectory: URL
    public let info: Info
    /// Empty unless started with `sample: true`: shashi.1bz (verified), acme.1bz
    /// (5 ether staked), bob.1bz (neither).
    public let sampleNodes: [SampleNode]

    public var rpcURL: URL { URL(string: info.rpcURL)! }
    public var contractAddress: String { info.contractAddress }
    public var lookupAddress: String { info.lookupAddress }
    public var deployBlock: UInt64 { info.deployBlock }

    public static let ether: UInt64 = 1_000_000_000_000_000_000

    private init(process: ManagedProcess, port: Int, stateDirectory: URL, info: Info, sampleNodes: [SampleNode]) {
        self.process = process
        self.port = port
        self.stateDirectory = stateDirectory
        self.info = info
        self.sampleNodes = sampleNodes
    }

    /// Starts a devnet and waits until it has deployed the contracts (devnet.json).
    /// The first start on a machine may create the venv (tens of seconds).
    public static func start(
        label: String = "devnet", sample: Bool = true, mineInterval: Double? = nil, maxLogRange: Int? = nil,
        timeout: Duration = .seconds(300)
    ) async throws -> Devnet {
        let dir = try Repo.scratchDirectory(label)
        let port = FreePort.next()
        var arguments = [
            "--port", String(port), "--state-dir", dir.path,
            "--exit-with-parent", String(ProcessInfo.processInfo.processIdentifier),
        ]
        if sample { arguments.append("--sample") }
        if let mineInterval { arguments += ["--mine-interval", String(mineInterval)] }
        if let maxLogRange { arguments += ["--max-log-range", String(maxLogRange)] }
        let process = try ManagedProcess(
            name: "devnet", executable: Repo.root.appendingPathComponent("scripts/devnet"), arguments: arguments,
            logDirectory: dir)
        let infoURL = dir.appendingPathComponent("devnet.json")
        try await process.waitUntil(timeout: timeout) { FileManager.default.fileExists(atPath: infoURL.path) }
        let info = try JSONDecoder().decode(Info.self, from: Data(contentsOf: infoURL))
        var samples: [SampleNode] = []
        if sample {
            samples = try JSONDecoder().decode(
                [SampleNode].self, from: Data(contentsOf: dir.appendingPathComponent("sample-nodes.json")))
        }
        return Devnet(process: process, port: port, stateDirectory: dir, info: info, sampleNodes: samples)
    }

    /// SIGTERM to the devnet's PID (SIGKILL after a grace period).
    public func stop() { process.stop() }

    public func sample(_ name: String) -> SampleNode? { sampleNodes.first { $0.name == name } }

    // MARK: JSON-RPC

    /// Calls `method` and returns the JSON `result` (Foundation JSON objects); throws on
    /// a JSON-RPC error object.
    public func rpc(_ method: String, _ params: [Any] = []) async throws -> Any? {
        let body: [String: Any] = ["jsonrpc": "2.0", "id": 1, "method": method, "params": params]
        var request = URLRequest(url: rpcURL)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let (data, _) = try await URLSession.shared.data(for: request)
        guard let reply = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TestProcessError("devnet \(method): not a JSON object: \(String(decoding: data, as: UTF8.self))")
        }
        if let error = reply["error"] {
            throw TestProcessError("devnet \(method) failed: \(error)")
        }
        return reply["result"] is NSNull ? nil : reply["result"]
    }

    public func blockNumber() async throws -> UInt64 {
        try Self.quantity(await rpc("eth_blockNumber"))
    }

    /// The hash of block `number` (0x-hex), nil if it does not exist.
    public func blockHash(_ number: UInt64) async throws -> String? {
        let block = try await rpc("eth_getBlockByNumber", ["0x" + String(number, radix: 16), false])
        return (block as? [String: Any])?["hash"] as? String
    }

    /// Mines `count` empty blocks.
    public func mine(_ count: Int = 1) async throws {
        _ = try await rpc("evm_mine", [count])
    }

    /// evm_snapshot: an id for `revert(to:)`.
    public func snapshot() async throws -> String {
        guard let id = try await rpc("evm_snapshot") as? String else { throw TestProcessError("evm_snapshot: no id") }
        return id
    }

    /// evm_revert: back to the state (and head) of the snapshot; new blocks then fork.
    public func revert(to snapshot: String) async throws {
        guard try await rpc("evm_revert", [snapshot]) as? Bool == true else {
            throw TestProcessError("evm_revert \(snapshot) refused")
        }
    }

    /// Sends a transaction (mined at once) and returns its receipt.
    public func sendTransaction(from: String, to: String, data: String = "0x", value: UInt64 = 0, gas: UInt64 = 500_000)
        async throws -> Receipt
    {
        let tx: [String: Any] = [
            "from": from, "to": to, "data": data, "value": "0x" + String(value, radix: 16),
            "gas": "0x" + String(gas, radix: 16),
        ]
        guard let hash = try await rpc("eth_sendTransaction", [tx]) as? String,
            let receipt = try await rpc("eth_getTransactionReceipt", [hash]) as? [String: Any]
        else { throw TestProcessError("eth_sendTransaction: no receipt") }
        return Receipt(
            transactionHash: hash, blockNumber: try Self.quantity(receipt["blockNumber"]),
            blockHash: receipt["blockHash"] as? String ?? "", succeeded: receipt["status"] as? String == "0x1")
    }

    /// registerNode(nodeHash, name) sent from `wallet` (default: account 5).
    @discardableResult
    public func registerNode(nodeHash: String, name: String, from wallet: String? = nil) async throws -> Receipt {
        try await sendTransaction(
            from: wallet ?? info.accounts[5], to: contractAddress,
            data: "0x54111bbc" + Self.word(hex: nodeHash) + Self.word(64) + Self.stringTail(name))
    }

    /// verifyNode(nodeHash) paying `fee` wei (default: the contract's 10 ether).
    @discardableResult
    public func verifyNode(nodeHash: String, fee: UInt64 = 10 * ether, from wallet: String? = nil) async throws
        -> Receipt
    {
        try await sendTransaction(
            from: wallet ?? info.accounts[5], to: contractAddress, data: "0xc8cc2aee" + Self.word(hex: nodeHash),
            value: fee)
    }

    /// addStake(nodeHash) with `amount` wei, from the node's wallet.
    @discardableResult
    public func addStake(nodeHash: String, amount: UInt64, from wallet: String? = nil) async throws -> Receipt {
        try await sendTransaction(
            from: wallet ?? info.accounts[5], to: contractAddress, data: "0x66da754b" + Self.word(hex: nodeHash),
            value: amount)
    }

    // MARK: tiny ABI encoding (TestSupport does not import ChainReader)

    static func word(_ value: UInt64) -> String {
        String(repeating: "0", count: 48) + String(format: "%016llx", value)
    }

    static func word(hex: String) -> String {
        let digits = hex.hasPrefix("0x") ? String(hex.dropFirst(2)) : hex
        precondition(digits.count == 64, "expected 32 bytes of hex, got \(hex)")
        return digits.lowercased()
    }

    static func stringTail(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let padded = bytes + [UInt8](repeating: 0, count: (32 - bytes.count % 32) % 32)
        return word(UInt64(bytes.count)) + padded.map { String(format: "%02x", $0) }.joined()
    }

    static func quantity(_ value: Any?) throws -> UInt64 {
        guard let text = value as? String, text.hasPrefix("0x"), let n = UInt64(text.dropFirst(2), radix: 16) else {
            throw TestProcessError("not a hex quantity: \(String(describing: value))")
        }
        return n
    }
}
