import DNSEngine
import DNSTransport
import DNSWire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import TOMLConfiguration
import ZoneCache
import ZoneTransfer

extension OnebzdCommand {
    /// Zone transfers and NOTIFY from `[transfer]`: the responder the DNS server answers
    /// AXFR/IXFR and TSIG with (nil: transfers REFUSED as before), and the NOTIFY
    /// sender, subscribed to the runtime's serial changes (nil: no targets).
    static func transferServices(
        _ setup: TransferSetup?, settings: ServerConfiguration, runtime: Runtime, zone: Zone,
        servedZones: [ServedZone] = [], group: MultiThreadedEventLoopGroup, logger: Logger
    ) throws -> (responder: ZoneTransferResponder?, notifier: NotifySender?) {
        guard let setup else { return (nil, nil) }
        let updatable = servedZones.filter { !$0.updateKeys.isEmpty }
        guard let source = runtime.transferSource else {
            logger.warning("transfers are configured but this mode has no transfer source yet: they are REFUSED")
            guard !updatable.isEmpty else { return (nil, nil) }
            // Updates still need the TSIG check: a responder whose empty ACL refuses
            // every transfer before the (unused) source is asked.
            var responder = ZoneTransferResponder(
                apex: zone.apex, source: StaticZoneTransferSource(zone: zone),
                configuration: .init(keys: setup.keys, acl: TransferACL([]), maxUDPPayload: 1232))
            responder.updates = UpdateResponder(zones: updatable)
            return (responder, nil)
        }
        var responder = ZoneTransferResponder(
            apex: zone.apex, source: source,
            configuration: .init(keys: setup.keys, acl: setup.acl, maxUDPPayload: 1232))
        if !updatable.isEmpty {
            // RFC 2136 UPDATEs of `_acme-challenge` TXT records, TSIG-signed (docs/dns.md).
            responder.updates = UpdateResponder(zones: updatable)
            logger.info("dynamic updates accepted", metadata: ["zones": "\(updatable.map(\.origin.description))"])
        }
        logger.info(
            "zone transfers served",
            metadata: [
                "allow": "\(setup.acl.entries.map { "\($0.prefix)=\($0.key?.description ?? "")" })",
                "keys": "\(setup.keys.names.map(\.description).sorted())",
            ])
        guard !setup.notifyTargets.isEmpty else { return (responder, nil) }
        var targets: [NotifySender.Target] = []
        for (index, target) in setup.notifyTargets.enumerated() {
            do {
                targets.append(
                    .init(address: try SocketAddress(ipAddress: target.address.host, port: target.address.port), key: target.key))
            } catch {
                throw ConfigurationError(key: "transfer.notify[\(index)].address", "\(target.address) is not IP:PORT")
            }
        }
        let notifier = NotifySender(
            apex: zone.apex, soa: { source.currentVersion()?.soa },
            configuration: .init(
                targets: targets, initialRetry: settings.transfer.notifyRetry, maxRetry: settings.transfer.notifyMaxRetry),
            group: group, logger: logger, holdUntilListening: true)
        runtime.serial.subscribe { notifier.serialChanged($0) }
        // RFC 1996 3.8 practice (Knot, NSD): a primary announces its serial when it starts.
        if let serial = source.currentVersion()?.serial { notifier.serialChanged(serial) }
        return (responder, notifier)
    }
}
