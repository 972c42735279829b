import DNSEngine
import DNSTestSupport
import DNSWire
import Testing
import ZoneTransfer

/// XoT (RFC 9103): an allow entry with `transport = "tls"` refuses the same key over
/// UDP and plain TCP; one with a client key pin needs a TLS client with that key.
@Suite struct TransferOverTLSACLTests {
    static let key = ZoneTransferResponderTests.key
    static let pin = Array(repeating: UInt8(7), count: 32)
    static let loopback = ZoneTransferResponderTests.loopback

    static func responder(requiresTLS: Bool, pin: [UInt8]? = nil) -> ZoneTransferResponder {
        let acl = TransferACL([
            TransferACL.Entry(
                prefix: AddressPrefix("127.0.0.0/8")!, key: key.name, requiresTLS: requiresTLS, clientKeySHA256: pin)
        ])
        return TransferFixture.responder(
            StaticZoneTransferSource(zone: TransferFixture.zone(serial: 1, names: 3)), keys: TSIGKeyring([key]), acl: acl)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var requiresTLS: Bool
        var pin: [UInt8]?
        var transport: Transport
        var channel: ChannelSecurity
        var type: RRType
        var served: Bool
        var testDescription: String { name }
    }

    @Test(arguments: [
        Case(
            name: "tls entry, plain TCP AXFR", requiresTLS: true, transport: .tcp, channel: .none, type: .axfr,
            served: false),
        Case(
            name: "tls entry, UDP IXFR", requiresTLS: true, transport: .udp, channel: .none, type: .ixfr, served: false),
        Case(
            name: "tls entry, TLS AXFR", requiresTLS: true, transport: .tcp, channel: .tls(clientKeySHA256: nil),
            type: .axfr, served: true),
        Case(
            name: "any entry, plain TCP AXFR", requiresTLS: false, transport: .tcp, channel: .none, type: .axfr,
            served: true),
        Case(
            name: "any entry, TLS AXFR", requiresTLS: false, transport: .tcp, channel: .tls(clientKeySHA256: nil),
            type: .axfr, served: true),
        Case(
            name: "pinned, no client certificate", requiresTLS: false, pin: pin, transport: .tcp,
            channel: .tls(clientKeySHA256: nil), type: .axfr, served: false),
        Case(
            name: "pinned, another key", requiresTLS: false, pin: pin, transport: .tcp,
            channel: .tls(clientKeySHA256: Array(repeating: 8, count: 32)), type: .axfr, served: false),
        Case(
            name: "pinned, the pinned key", requiresTLS: false, pin: pin, transport: .tcp,
            channel: .tls(clientKeySHA256: pin), type: .axfr, served: true),
        Case(
            name: "pinned, plain TCP", requiresTLS: false, pin: pin, transport: .tcp, channel: .none, type: .axfr,
            served: false),
    ])
    func transportAndPinAreChecked(_ test: Case) throws {
        var request = TransferFixture.request(test.type)
        var signer = TSIGSigner.forRequest(key: Self.key)
        signer.sign(&request, now: ZoneTransferResponderTests.now)
        let outcome = request.withUnsafeBytes {
            Self.responder(requiresTLS: test.requiresTLS, pin: test.pin).respond(
                to: $0, transport: test.transport, client: Self.loopback, now: ZoneTransferResponderTests.now,
                channel: test.channel)
        }
        switch outcome {
        case .stream(_, let event):
            #expect(test.served, "served: \(event)")
        case .reply(let bytes, let event):
            let message = try Message(decoding: bytes)
            if test.served {
                #expect(message.rcode == .noError, "\(event)")
            } else {
                #expect(message.rcode == .refused)
                let reason = event.refusal ?? ""
                #expect(reason.contains("TLS") || reason.contains("certificate"), "\(event)")
                // The refusal of a verified request is signed.
                #expect(message.additionals.last?.type == TSIGRecord.type)
            }
        case .notForUs, .query:
            Issue.record("not answered as a transfer")
        }
    }
}
