import DNSEngine
import DNSWire
import Logging
import Metrics
import ZoneTransfer

/// Logs and counts what zone transfers and TSIG-signed requests did:
/// `onebz_dns_transfers_total{type, kind}` for transfers served,
/// `onebz_dns_transfer_refusals_total{rcode}` for refusals (the log line says who, with
/// which key, and why), `onebz_dns_transfer_messages_total` and `_bytes_total` for what
/// streams sent.
struct TransferObserver: Sendable {
    let logger: Logger

    /// `tls`: the request came over DNS over TLS (XoT), logged as transport "tls".
    func record(
        _ event: ZoneTransferResponder.TransferEvent, client: ClientAddress?, transport: Transport, tls: Bool = false
    ) {
        let metadata: Logger.Metadata = [
            "client": "\(client.map(Self.text) ?? "unknown")", "transport": "\(tls ? "tls" : "\(transport)")",
            "type": "\(event.type)",
            "key": "\(event.key?.description ?? "none")",
        ]
        if event.isUpdate {
            recordUpdate(event, metadata: metadata)
            return
        }
        if let refusal = event.refusal {
            Counter(label: "onebz_dns_transfer_refusals_total", dimensions: [("rcode", event.rcode.description)])
                .increment()
            var details = metadata
            details["rcode"] = "\(event.rcode)"
            details["reason"] = "\(refusal)"
            // AXFR over UDP is noise from scanners, not an operator's problem.
            logger.log(level: transport == .udp ? .debug : .notice, "transfer refused", metadata: details)
            return
        }
        guard let kind = event.kind else { return }
        Counter(label: "onebz_dns_transfers_total", dimensions: [("type", "\(event.type)"), ("kind", kind.rawValue)])
            .increment()
        var details = metadata
        details["kind"] = "\(kind.rawValue)"
        details["serial"] = "\(event.serial.map(String.init) ?? "-")"
        if let clientSerial = event.clientSerial { details["clientSerial"] = "\(clientSerial)" }
        logger.info("transfer started", metadata: details)
    }

    /// RFC 2136 updates (ACME challenges): each one logged, counted by rcode.
    private func recordUpdate(_ event: ZoneTransferResponder.TransferEvent, metadata: Logger.Metadata) {
        Counter(label: "onebz_dns_updates_total", dimensions: [("rcode", event.rcode.description)]).increment()
        var details = metadata
        details["rcode"] = "\(event.rcode)"
        details["serial"] = "\(event.serial.map(String.init) ?? "-")"
        if let refusal = event.refusal {
            details["reason"] = "\(refusal)"
            logger.notice("update refused", metadata: details)
        } else {
            logger.info("update applied", metadata: details)
        }
    }

    func finished(_ stream: TransferStream, client: ClientAddress?, completed: Bool) {
        Counter(label: "onebz_dns_transfer_messages_total").increment(by: Int64(stream.messageCount))
        Counter(label: "onebz_dns_transfer_bytes_total").increment(by: Int64(stream.byteCount))
        logger.log(
            level: completed ? .info : .notice, completed ? "transfer finished" : "transfer aborted",
            metadata: [
                "client": "\(client.map(Self.text) ?? "unknown")", "kind": "\(stream.kind.rawValue)",
                "serial": "\(stream.serial)", "messages": "\(stream.messageCount)", "records": "\(stream.recordCount)",
                "bytes": "\(stream.byteCount)",
            ])
    }

    static func text(_ address: ClientAddress) -> String {
        let bytes = address.bytes
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}
