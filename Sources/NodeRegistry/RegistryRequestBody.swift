import Foundation

/// The registry's request bodies parsed from bytes: a pure function from what a client
/// sent to a typed value or a typed error (no I/O, no state), so the registry and fuzz
/// targets call the same code. Records and heartbeats are read by `RegistryJSON`'s one-pass
/// reader; what it leaves (odd input, every error) goes to `JSONDecoder`.
public enum RegistryRequestBody {
    /// `PUT /v1/nodes/{node_id}`: a signed metadata record (not yet verified).
    public static func record(_ bytes: some Collection<UInt8>) throws(RegistryBodyError) -> NodeMetadata {
        if let record = RegistryJSON.decodeRecord(bytes) { return record }
        return try decode(NodeMetadata.self, bytes)
    }

    /// `POST /v1/verify`: a heartbeat (signature not yet checked).
    public static func heartbeat(_ bytes: some Collection<UInt8>) throws(RegistryBodyError) -> Heartbeat {
        if let heartbeat = RegistryJSON.decodeHeartbeat(bytes) { return heartbeat }
        return try decode(Heartbeat.self, bytes)
    }

    /// `POST /v1/endorse`: an endorsement (signature not yet checked).
    public static func endorsement(_ bytes: some Collection<UInt8>) throws(RegistryBodyError) -> Endorsement {
        try decode(Endorsement.self, bytes)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: some Collection<UInt8>) throws(RegistryBodyError) -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(bytes)) } catch {
            throw RegistryBodyError(detail: "body is not a valid \(T.self) JSON object: \(short(error))")
        }
    }

    private static func short(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let k, _): "missing key \(k.stringValue)"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted: "not JSON"
        default: "\(error)"
        }
    }
}

/// A request body that does not parse (HTTP 400 `invalid_json`).
public struct RegistryBodyError: Error, Hashable, CustomStringConvertible {
    public let detail: String
    public var description: String { detail }
}
