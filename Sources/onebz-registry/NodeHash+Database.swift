import ChainReader
import GRDB
import NodeRegistry

/// Node hashes are stored as their text form (`0x` + 64 hex digits), as before; reading
/// one back gives the one node-hash type, or a database error for a corrupt value.
extension NodeHash: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { hex.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> NodeHash? {
        String.fromDatabaseValue(dbValue).flatMap { NodeHash(hex: $0) }
    }
}
