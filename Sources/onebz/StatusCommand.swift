import ArgumentParser
import ChainReader
import ChainWallet
import DNSWire
import Foundation
import NodeRegistry

/// `onebz status NAME|NODE_ID`: what the chain, the registry and DNS each say about a
/// node, side by side, and every place where they disagree (with why, when we know).
/// `onebz status --endpoints --server URL`: a running onebzd's chain endpoints (its
/// `/status/chain`), one line each.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a node as the world sees it: chain, registry and DNS, with their disagreements.",
        discussion: """
            Each source is optional; give the ones you can reach. Exit status 0 when they all agree, 3 when not.
            With --endpoints --server URL: the chain RPC endpoints of a running onebzd (height, lag, requests/min, \
            budget, rate-limit hits, batch size, chain id, errors by kind); exit status 3 when one serves another chain.
            """)

    @Argument(help: "A name (shashi.1bz) or a node id (64 hex).")
    var node: String?

    @Flag(help: "Show the chain RPC endpoints of the onebzd at --server instead of a node.")
    var endpoints = false
    @Option(help: "onebzd's HTTP address (its --http), e.g. http://127.0.0.1:8053; with --endpoints.")
    var server: String?

    @Option(help: "Chain JSON-RPC URL (or env:NAME, @FILE).") var rpc: String?
    @Option(help: "BizNodeRegistry contract address.") var contract: String?
    @Option(help: "Registry base URL, e.g. http://127.0.0.1:8080.") var registry: String?
    @Option(name: .customLong("registry-ca"), help: "HTTPS: trust only the certificates in this PEM file.")
    var registryCA: String?
    @Option(name: .customLong("registry-pin"), help: "HTTPS: base64 SHA-256 of the registry's public key.")
    var registryPin: String?
    @Option(help: "The onebzd to ask, HOST:PORT (e.g. 127.0.0.1:5353).") var dns: String?

    struct ChainView {
        var nodeHash: Bytes32
        var node: Node?
        var block: UInt64
    }
    struct DNSView {
        var addresses: [String]
        var txt: [String: String]
        var ttl: UInt32?
        var rcode: String
    }

    func validate() throws {
        if endpoints {
            guard server != nil else {
                throw ValidationError("--endpoints needs --server URL (onebzd's --http address)")
            }
            guard node == nil else { throw ValidationError("give a node or --endpoints, not both") }
        } else if node == nil {
            throw ValidationError("give a name or node id (or --endpoints --server URL)")
        }
    }

    func run() async throws {
        if endpoints, let server {
            try await EndpointsView.show(server: server)
            return
        }
        let node = node!
        var name: String? = nil
        var nodeID = NodeID(hex: node)
        if nodeID == nil { name = try checkedName(node.lowercased()) }
        var problems: [String] = []

        // chain
        var chainView: ChainView?
        if let rpc, let contract {
            let reader = try ChainOptions.parse(["--rpc", rpc, "--contract", contract]).registry()
            do {
                let block = try await reader.blockNumber()
                if let name {
                    let found = try await reader.lookup(name, at: .number(block))
                    chainView = ChainView(
                        nodeHash: found?.nodeHash ?? .zero, node: found?.node, block: block)
                } else if let nodeID {
                    let hash = nodeID.nodeHash
                    chainView = ChainView(
                        nodeHash: hash, node: try await reader.node(hash, at: .number(block)), block: block)
                    if let registered = chainView?.node?.dnsName, !registered.isEmpty { name = registered }
                }
            } catch { problems.append("chain unreachable: \(error)") }
        } else if rpc != nil || contract != nil {
            throw ValidationError("--rpc and --contract go together")
        }

        print("== chain" + (chainView.map { " (block \($0.block))" } ?? ""))
        if let view = chainView {
            if let n = view.node {
                print("  name:       \(n.dnsName)")
                print("  nodeHash:   \(view.nodeHash.hex)")
                print("  wallet:     \(n.wallet.checksummed)")
                print("  verified:   \(n.verified ? "yes" : "no")")
                print("  stake:      \(Wei.format(n.stakeAmount))")
                print("  registered: \(Self.date(n.registeredAt))")
            } else {
                print("  not registered")
                problems.append("not registered on chain: run `onebz register \(name ?? "NAME.1bz") --key ...`")
            }
        } else {
            print("  (not asked: give --rpc and --contract)")
        }

        // registry
        var entry: VerifiedRegistryEntry?
        if let registry {
            let client = try RegistryOption.client(url: registry, ca: registryCA, pin: registryPin)
            do {
                if let nodeID {
                    entry = try await client.fetch(nodeId: nodeID)
                } else if let hash = chainView?.node.map({ _ in chainView!.nodeHash }) {
                    entry = try await client.fetch(nodeHash: hash)
                } else if let name {
                    entry = try await client.fetch(name: name)
                }
            } catch let error where error.kind == .notFound {
                if chainView == nil || chainView?.node != nil {  // unregistered: registering comes first
                    problems.append(
                        "registry record not published yet: run `onebz publish --key ... --registry \(registry) --ipv4 ...`"
                    )
                }
            } catch {
                problems.append("registry: \(error)")
            }
            await client.shutdown()
        }
        print("== registry")
        if let entry {
            let record = entry.metadata.record
            if nodeID == nil { nodeID = NodeID(hex: record.nodeID) }
            print("  node_id:    \(record.nodeID)")
            print("  addresses:  \((record.ipv4 + record.ipv6).joined(separator: " "))")
            print("  seq:        \(record.seq)")
            print("  trust:      \(entry.trust) (tier \(entry.tier))")
            print("  verified:   \(entry.verified ? "yes" : "no") (as the registry last saw the chain)")
            print("  updated:    \(Self.date(UInt64(max(0, entry.updatedAt))))")
            if let beat = entry.lastHeartbeat {
                let age = Int64(Date().timeIntervalSince1970) - beat
                print("  heartbeat:  \(Self.date(UInt64(max(0, beat)))) (\(max(0, age)) s ago)")
                if age > 15 * 60 {
                    problems.append(
                        "no heartbeat for \(age / 60) min: uptime (25 trust points) counts 5-minute slots; run `onebz heartbeat --every 5m` or the systemd timer"
                    )
                }
            } else {
                print("  heartbeat:  none yet")
            }
            if let n = chainView?.node {
                if n.verified != entry.verified {
                    problems.append(
                        "the registry has not caught up with the chain yet (chain verified=\(n.verified ? "yes" : "no"), registry \(entry.verified ? "yes" : "no")): it follows the chain's events, give it a poll interval"
                    )
                }
                if entry.stakeWei != n.stakeAmount.description {
                    problems.append(
                        "the registry's stake (\(entry.stakeWei) wei) lags the chain's (\(n.stakeAmount) wei)")
                }
            }
        } else if registry == nil {
            print("  (not asked: give --registry)")
        } else {
            print("  no record")
        }
        if let id = nodeID { print("  (DNS id name: \(id.dnsName))") }

        // DNS
        print("== dns")
        if let dns {
            let probe = try DNSProbe(dns)
            let qname = name ?? nodeID?.dnsName ?? node
            do {
                let view = try Self.ask(probe, qname)
                print("  \(qname): \(view.rcode)")
                print("  A/AAAA:     \(view.addresses.isEmpty ? "(none)" : view.addresses.joined(separator: " "))")
                for key in ["node", "verified", "trust", "wallet", "pk"] where view.txt[key] != nil {
                    print("  TXT \(key)=\(view.txt[key]!)")
                }
                problems += Self.compare(view, chain: chainView, entry: entry, nodeID: nodeID)
            } catch {
                problems.append("DNS: \(error)")
            }
        } else {
            print("  (not asked: give --dns HOST:PORT)")
        }

        print("== agreement")
        if problems.isEmpty {
            print("  chain, registry and DNS agree")
        } else {
            for p in problems { print("  - \(p)") }
            throw ExitCode(3)
        }
    }

    static func ask(_ probe: DNSProbe, _ name: String) throws -> DNSView {
        var addresses: [String] = []
        var ttl: UInt32?
        var txt: [String: String] = [:]
        var rcode = "NOERROR"
        for type in [RRType.a, .aaaa, .txt] {
            let reply = try probe.query(name, type)
            if reply.rcode != .noError { rcode = reply.rcode.description }
            for rr in reply.answers where rr.type == type {
                ttl = min(ttl ?? rr.ttl, rr.ttl)
                switch type {
                case .a where rr.rdata.count == 4: addresses.append(rr.rdata.map(String.init).joined(separator: "."))
                case .aaaa where rr.rdata.count == 16:
                    if let text = IPAddress.ipv6(bytes: rr.rdata) { addresses.append(text) }
                case .txt:
                    var i = 0
                    var text: [UInt8] = []
                    while i < rr.rdata.count {
                        let n = Int(rr.rdata[i])
                        text += rr.rdata[(i + 1)..<min(rr.rdata.count, i + 1 + n)]
                        i += 1 + n
                    }
                    let s = String(decoding: text, as: UTF8.self)
                    if let eq = s.firstIndex(of: "=") { txt[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
                default: break
                }
            }
        }
        return DNSView(addresses: addresses, txt: txt, ttl: ttl, rcode: rcode)
    }

    static func compare(_ dns: DNSView, chain: ChainView?, entry: VerifiedRegistryEntry?, nodeID: NodeID?) -> [String] {
        var out: [String] = []
        let ttl =
            dns.ttl.map { "cached until its TTL (up to \($0) s) or the next invalidation" } ?? "cached until the TTL"
        if dns.rcode == "NXDOMAIN", chain?.node != nil {
            out.append(
                "DNS still says NXDOMAIN although the name is registered: the negative answer is cached (SOA minimum TTL) until onebzd's follower sees the NodeRegistered event"
            )
        }
        if let entry {
            let published = Set(entry.metadata.record.ipv4 + entry.metadata.record.ipv6)
            if Set(dns.addresses) != published {
                out.append(
                    dns.addresses.isEmpty
                        ? "DNS serves no address yet (registry has \(published.sorted().joined(separator: " "))): \(ttl)"
                        : "DNS still serves the old address (\(dns.addresses.joined(separator: " "))), the registry has \(published.sorted().joined(separator: " ")): \(ttl)"
                )
            }
            if let trust = dns.txt["trust"], trust != String(entry.trust) {
                out.append("DNS says trust=\(trust), the registry \(entry.trust): \(ttl)")
            }
        }
        if let node = chain?.node {
            let verified = node.verified ? "yes" : "no"
            if let said = dns.txt["verified"], said != verified {
                out.append("DNS says verified=\(said), the chain \(verified): \(ttl)")
            }
            if let wallet = dns.txt["wallet"], wallet.lowercased() != node.wallet.hex {
                out.append("DNS says wallet=\(wallet), the chain \(node.wallet.hex)")
            }
        }
        if let nodeID, let said = dns.txt["node"], said != nodeID.hex {
            out.append("DNS says node=\(said) but the node is \(nodeID.hex)")
        }
        if dns.txt.isEmpty, chain?.node != nil, dns.rcode == "NOERROR" {
            out.append("DNS has no TXT for the name yet: \(ttl)")
        }
        return out
    }

    static func date(_ unix: UInt64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(unix)))
    }
}
