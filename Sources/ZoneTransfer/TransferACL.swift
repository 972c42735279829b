import DNSEngine
import DNSWire

/// Who may transfer the zone (`allow-transfer`): a list of address prefixes, each
/// with the TSIG key a request from there must be signed with, or none. A request is
/// allowed when one entry's prefix holds its source address and the entry asks no key
/// or the request was signed with that key, and (XoT, RFC 9103) the entry's transport
/// and client certificate pin hold. Nothing configured: nobody.
public struct TransferACL: Sendable {
    public struct Entry: Sendable, Equatable {
        public var prefix: AddressPrefix
        /// The key the request must be signed with; nil: unsigned requests are allowed
        /// from this prefix (written `key = ""`, like NSD's NOKEY).
        public var key: Name?
        /// Only over TLS (`transport = "tls"`): the same key over UDP or plain TCP is
        /// refused, so a stolen key cannot fetch the zone in the clear.
        public var requiresTLS: Bool
        /// Mutual TLS: the SHA-256 of the client certificate's SubjectPublicKeyInfo
        /// (`client_spki_sha256`); nil: any client (or none) may transfer.
        public var clientKeySHA256: [UInt8]?

        public init(prefix: AddressPrefix, key: Name?, requiresTLS: Bool = false, clientKeySHA256: [UInt8]? = nil) {
            self.prefix = prefix
            self.key = key?.lowercased
            self.requiresTLS = requiresTLS || clientKeySHA256 != nil
            self.clientKeySHA256 = clientKeySHA256
        }

        /// Why this entry (whose prefix matched) does not allow the request; nil: allowed.
        func denial(key requestKey: Name?, channel: ChannelSecurity) -> Denial? {
            guard key == nil || key == requestKey?.lowercased else {
                guard let requestKey else { return .key("unsigned; a TSIG key is required from this address") }
                return .key("key \(requestKey) is not allowed from this address")
            }
            if requiresTLS, !channel.isTLS {
                return .channel("this allow entry requires TLS (XoT); refused over UDP or plain TCP")
            }
            if let pin = clientKeySHA256, channel.clientKeySHA256 != pin {
                return .channel(
                    channel.clientKeySHA256 == nil
                        ? "this allow entry requires a client certificate"
                        : "the client certificate does not match the pin")
            }
            return nil
        }
    }

    /// Why an entry refused: the key, or (an entry for this key) the channel.
    enum Denial {
        case key(String)
        case channel(String)

        var reason: String {
            switch self {
            case .key(let reason), .channel(let reason): return reason
            }
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) { self.entries = entries }

    /// Why a request was not allowed; nil: allowed.
    public func denial(client: ClientAddress?, key: Name?, channel: ChannelSecurity = .none) -> String? {
        guard let client else { return "the client's address is unknown" }
        let matching = entries.filter { $0.prefix.contains(client) }
        guard !matching.isEmpty else { return "no allow entry matches the address" }
        var denials: [Denial] = []
        for entry in matching {
            guard let denial = entry.denial(key: key, channel: channel) else { return nil }
            denials.append(denial)
        }
        // The most specific reason: an entry for this key that wants TLS or a pin says
        // more than "key not allowed" from another entry.
        for case .channel(let reason) in denials { return reason }
        return denials.first?.reason
    }
}
