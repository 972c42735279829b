import ArgumentParser
import ChainReader
import Foundation
import NodeRegistry

extension RegistryCommand {
    /// The profile --network names; nil without one.
    func chainProfile() throws -> ChainProfile? {
        guard let network else { return nil }
        guard let profile = ChainProfile.named(network) else {
            throw ValidationError(
                "invalid --network \(network): expected one of \(ChainProfile.all.map(\.name).joined(separator: ", "))")
        }
        return profile
    }

    /// The BizNodeRegistry binding for --rpc (one or more, in order of preference),
    /// --contract and the provider settings (--network and the flags overriding it).
    func makeRegistryBinding() throws -> BizNodeRegistry {
        guard !rpc.isEmpty else { throw ValidationError("--rpc is required") }
        var urls: [URL] = []
        for text in rpc {
            do { urls.append(try RPCURLArgument.resolve(text, flag: "--rpc")) } catch {
                throw ValidationError(error.description)
            }
        }
        guard let address = EthereumAddress(hex: contract) else {
            throw ValidationError("invalid --contract \(contract): expected 0x + 40 hex digits")
        }
        let profile = try chainProfile()
        if let requestsPerSecond, requestsPerSecond < 0 || !requestsPerSecond.isFinite {
            throw ValidationError("invalid --requests-per-second \(requestsPerSecond): must be 0 (unlimited) or more")
        }
        if let hedgeAfter, hedgeAfter < 0 || !hedgeAfter.isFinite {
            throw ValidationError("invalid --hedge-after \(hedgeAfter): must be 0 (never) or more seconds")
        }
        var configuration = JSONRPCClient.Configuration(endpoints: urls)
        configuration.expectedChainID = profile?.chainID
        configuration.requestsPerSecond = requestsPerSecond.map { $0 > 0 ? $0 : nil } ?? profile?.requestsPerSecond
        configuration.hedgeAfter =
            hedgeAfter.map { $0 > 0 ? .milliseconds(Int($0 * 1000)) : nil } ?? profile?.hedgeAfter
        return BizNodeRegistry(client: JSONRPCClient(configuration: configuration), address: address)
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
