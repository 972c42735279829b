import ArgumentParser
import ChainReader
import Foundation
import NodeRegistry

extension RegistryCommand {
    /// The BizNodeRegistry binding for --rpc/--contract.
    func makeRegistryBinding() throws -> BizNodeRegistry {
        let url: URL
        do { url = try RPCURLArgument.resolve(rpc, flag: "--rpc") } catch { throw ValidationError(error.description) }
        guard let address = EthereumAddress(hex: contract) else {
            throw ValidationError("invalid --contract \(contract): expected 0x + 40 hex digits")
        }
        return BizNodeRegistry(client: JSONRPCClient(url: url), address: address)
    }
}

/// `ChainNodeSource` over ChainReader's BizNodeRegistry binding (`nodes(nodeHash)` at latest).
struct ContractNodeSource: ChainNodeSource {
    let registry: BizNodeRegistry

    func node(_ hash: NodeHash) async throws -> ChainNodeState {
        guard let n = try await registry.node(hash) else { return .unregistered }
        return ChainNodeState(
            registered: true, wallet: n.wallet.hex, dnsName: n.dnsName, verified: n.verified,
            stakeWei: UInt256Decimal(n.stakeAmount.description) ?? .zero)
    }
}
