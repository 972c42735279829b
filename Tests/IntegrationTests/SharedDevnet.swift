import ChainReader
import Foundation
import TestSupport

/// One devnet (with sample nodes) shared by the tests that only add state to it; tests
/// that rewind the chain (snapshot/revert) start their own. It stops with this process
/// (the devnet watches our PID).
enum SharedDevnet {
    static let task = Task { try await Devnet.start(label: "chain-shared") }

    static func get() async throws -> Devnet { try await task.value }

    static func registry(_ devnet: Devnet, withLookup: Bool = true) -> BizNodeRegistry {
        BizNodeRegistry(
            client: JSONRPCClient(url: devnet.rpcURL),
            address: EthereumAddress(hex: devnet.contractAddress)!,
            lookupAddress: withLookup ? EthereumAddress(hex: devnet.lookupAddress)! : nil)
    }
}

/// A fresh node identity for a test: a random 64-hex node id and its nodeHash.
struct TestNode {
    let nodeID: String
    let nodeHash: Bytes32
    let name: String

    init(prefix: String) {
        nodeID = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        nodeHash = Bytes32(Keccak256.hash(nodeID))!
        name = "\(prefix)-\(UInt32.random(in: 0...UInt32.max)).1bz"
    }
}
