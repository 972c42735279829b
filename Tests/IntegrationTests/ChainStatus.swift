import Foundation
import TestSupport

/// What a running onebzd says of its chain view (`/status/chain`, docs/operator.md).
enum ChainStatus {
    /// The block onebzd's answers are at (`head`), nil before its first sync or when the
    /// status does not answer. The SOA serial is the block of the last change, not of
    /// every processed block (docs/design.md#serials): wait on this for "the follower
    /// has seen block N".
    static func head(httpPort: Int) throws -> UInt64? {
        let body = try Command.run("curl", ["-s", "http://127.0.0.1:\(httpPort)/status/chain"]).stdout
        let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return (object?["head"] as? Int).map(UInt64.init)
    }
}
