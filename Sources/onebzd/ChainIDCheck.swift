import ChainReader
import Foundation
import Logging

/// At start: every configured endpoint is asked eth_chainId once (all at once, one
/// attempt each); one that names another chain than the profile (or `chain_id`) stops
/// onebzd with both ids. An endpoint that does not answer is only warned about: it may
/// be down for a while, and backend trouble must not keep the server from answering
/// from what it can reach. The server's clients ask it before its first use once it is
/// up (`JSONRPCClient.Configuration.expectedChainID`), and never use it if it names
/// another chain.
enum ChainIDCheck {
    struct Mismatch: Error, CustomStringConvertible {
        let key: String
        let expected: UInt64
        let endpoint: String
        let reported: UInt64
        var description: String {
            "\(key) expects chain id \(expected), but \(endpoint) reports chain id \(reported) (eth_chainId): "
                + "wrong endpoint or wrong network; fix chain.rpc_urls or chain.network/chain.chain_id"
        }
    }

    /// A client for one endpoint that asks once (no retry, no failover): a check of
    /// that endpoint, within the server's timeout and request budget for it.
    static func probe(
        _ url: URL, chain: ServerConfiguration.Chain, logger: Logger = Logger(label: "onebz.chain.rpc")
    ) -> JSONRPCClient {
        var configuration = JSONRPCClient.Configuration(endpoints: [url])
        configuration.maxAttempts = 1
        configuration.timeout = chain.timeout
        configuration.requestsPerSecond = chain.requestsPerSecond
        configuration.endpointRequestsPerSecond = chain.endpointRequestsPerSecond
        return JSONRPCClient(configuration: configuration, logger: logger)
    }

    static func run(_ chain: ServerConfiguration.Chain, logger: Logger) async throws {
        guard let expected = chain.expectedChainID else { return }
        let key = chain.network.map { "chain.network = \"\($0.name)\"" } ?? "chain.chain_id"
        let answers = await withTaskGroup(of: (String, Result<UInt64, any Error>).self) { group in
            for url in chain.rpcURLs {
                group.addTask {
                    let client = probe(url, chain: chain)
                    do { return (JSONRPCClient.redacted(url), .success(try await client.chainID())) } catch {
                        return (JSONRPCClient.redacted(url), .failure(error))
                    }
                }
            }
            var answers: [(String, Result<UInt64, any Error>)] = []
            for await answer in group { answers.append(answer) }
            return answers
        }
        for (endpoint, answer) in answers {
            switch answer {
            case .success(let id) where id != expected:
                throw Mismatch(key: key, expected: expected, endpoint: endpoint, reported: id)
            case .success:
                // The clients built next do not ask again.
                EndpointStatistics.shared.setChainID(endpoint, .checked)
                logger.info("chain id checked", metadata: ["endpoint": "\(endpoint)", "chainId": "\(expected)"])
            case .failure(let error):
                logger.warning(
                    "could not check the endpoint's chain id at start: it is checked before its first use",
                    metadata: ["endpoint": "\(endpoint)", "expected": "\(expected)", "error": "\(error)"])
            }
        }
    }
}
