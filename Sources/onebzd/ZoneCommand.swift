import ArgumentParser
import ChainReader
import DNSWire
import Foundation
import Logging
import NodeRegistry
import OneBZResolver
import ZoneCache

#if canImport(Glibc)
    import Glibc
#endif

/// `onebzd zone dump`: the materialised zone as a master file.
struct ZoneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zone",
        abstract: "The materialised zone: every registered name with the records onebzd answers.",
        subcommands: [Dump.self])

    struct Dump: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sync from the chain and registry, materialise every name, write the zone as a master file.",
            discussion: """
                Takes the server's configuration (--config and the same flags), follows the chain
                from the deploy block until synced, resolves every registered name as onebzd answers
                it, writes the static zone plus every node name (SOA first, serial = processed block)
                as an RFC 1035 master file to stdout or --output, and exits. A backup and an audit:
                diff it against the chain. Without a chain, the static zone alone.
                """)

        /// The server's options (--config, --zone, --rpc-url, ...): the same parsing and
        /// validation as the server, since the root command takes them wherever they are.
        @ParentCommand var server: OnebzdCommand

        @Option(help: "Write the zone to FILE instead of stdout.")
        var output: String?

        func run() async throws {
            var logger = Logger(label: "onebzd.zone") { StreamLogHandler.standardError(label: $0) }
            logger.logLevel = server.log.logLevel
            let settings: ServerConfiguration
            let zone: Zone
            do {
                settings = try server.loadConfiguration()
                zone = try Zone(file: settings.server.zoneFile, apex: try server.originName())
            } catch {
                throw DNSSECCommand.failure("\(error)")
            }
            let materialized = try await Self.materialize(settings: settings, zone: zone, logger: logger)
            guard let version = materialized.currentVersion() else { throw DNSSECCommand.failure("no zone version") }
            var lines: [String] = []
            var records = version.makeRecordIterator()
            var unprintable = 0
            var next: ResourceRecord? = version.soa
            while let record = next {
                if let line = MasterFileWriter.line(record) { lines.append(line) } else { unprintable += 1 }
                next = records.next()
            }
            if unprintable > 0 { throw DNSSECCommand.failure("\(unprintable) records could not be written") }
            let text = lines.joined(separator: "\n") + "\n"
            if let output {
                do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch {
                    throw DNSSECCommand.failure("cannot write \(output): \(error.localizedDescription)")
                }
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
            logger.info("zone written", metadata: ["serial": "\(version.serial)", "records": "\(lines.count)"])
        }

        /// Follows the chain until synced and resolves every name; the static zone alone
        /// without a chain.
        static func materialize(settings: ServerConfiguration, zone: Zone, logger: Logger) async throws -> MaterializedZone {
            var zoneSettings = MaterializedZone.Settings()
            zoneSettings.positiveTTL = settings.ttl.positive
            guard let chain = settings.chain else { return MaterializedZone.staticOnly(zone, settings: zoneSettings) }
            zoneSettings.collectEventFacts = ChainClients.materializesInBulk(chain)
            let materialized = MaterializedZone(staticZone: zone, settings: zoneSettings, logger: logger)
            let clients = ChainClients(chain, logger: logger)
            let tls: RegistryTLS?
            do { tls = try settings.registry?.tls() } catch { throw DNSSECCommand.failure("\(error)") }
            let registry = settings.registry.map { RegistryClient(baseURL: $0.url, timeout: $0.timeout, tls: tls) }
            let batches = ChainBatchCollector()
            let follower = EventFollower(
                registry: clients.contract, configuration: clients.follower, blocks: clients.agreedBlocks,
                logger: logger
            ) { event in
                // No caches here: the zone is the batches' only consumer.
                if let (batch, block) = batches.collect(event) { materialized.apply(batch, syncedTo: block) }
            }
            let resolver = NodeResolver(chain: clients.reader, registry: registry)
            let materializer = ZoneMaterializer(
                zone: materialized, resolver: resolver,
                bulk: clients.bulkMaterializer(resolver: resolver, registry: registry, logger: logger),
                settings: clients.materializer, logger: logger)
            let following = Task { try await follower.run() }
            defer { following.cancel() }
            do { try await materializer.materializeOnce() } catch {
                await registry?.shutdown()
                throw error
            }
            await registry?.shutdown()
            return materialized
        }
    }
}
