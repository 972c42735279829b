import ArgumentParser
import AsyncHTTPClient
import ChainReader
import Foundation
import NIOCore

/// `onebz status --endpoints --server URL`: onebzd's `/status/chain` as a table, one
/// endpoint a line, then what needs the operator (an endpoint on another chain).
enum EndpointsView {
    static func show(server: String) async throws {
        let base = server.hasSuffix("/") ? String(server.dropLast()) : server
        guard base.hasPrefix("http://") || base.hasPrefix("https://") else {
            throw ValidationError("--server must be an http(s) URL, e.g. http://127.0.0.1:8053")
        }
        let report: ChainStatusReport
        do {
            let response = try await JSONRPCClient.sharedHTTPClient.execute(
                HTTPClientRequest(url: base + "/status/chain"), timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 4 << 20)
            guard response.status == .ok else {
                throw ValidationError("\(base)/status/chain: HTTP \(response.status.code): \(String(buffer: body))")
            }
            report = try JSONDecoder().decode(ChainStatusReport.self, from: Data(body.readableBytesView))
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("cannot read \(base)/status/chain: \(error)")
        }
        print(render(report, server: base), terminator: "")
        if report.endpoints.contains(where: { $0.chainID == "wrong" }) { throw ExitCode(3) }
    }

    /// The table (pure, for tests).
    static func render(_ report: ChainStatusReport, server: String) -> String {
        var out = "== chain endpoints of \(server) (answers from block \(report.head.map(String.init) ?? "none yet"))\n"
        let header = [
            "endpoint", "height", "lag", "behind", "req/min", "budget", "429s", "batch", "chain id", "errors",
        ]
        var rows = [header]
        for e in report.endpoints {
            let errors = e.errors.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            rows.append([
                e.endpoint, e.height.map(String.init) ?? "-", e.lag.map(String.init) ?? "-",
                e.behindHead.map(String.init) ?? "-", "\(e.requestsPerMinute)",
                e.requestsPerSecond.map { "\(Self.number($0))/s" } ?? "none", "\(e.rateLimited)", "\(e.batchSize)",
                e.reportedChainID.map { "wrong (\($0))" } ?? e.chainID,
                errors.isEmpty ? "-" : errors.joined(separator: " "),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            out += "  " + cells.joined(separator: "  ") + "\n"
        }
        for e in report.endpoints where e.chainID == "wrong" {
            out +=
                "  - \(e.endpoint) serves chain \(e.reportedChainID.map(String.init) ?? "?"), not the configured one: "
                + "onebzd does not use it; fix chain.rpc_urls\n"
        }
        return out
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
