import ChainReader

/// The materialised zone as persisted (docs/operator.md#the-zone-snapshot): the
/// registered nodes with their records, the serial, the block (number and hash) the name
/// set is complete up to, and what it belongs to (chain id, contract). Read back by
/// `ZoneSnapshotFile.read`, which builds the name set while parsing; written from a view
/// of the zone's entries taken under its lock (copy-on-write: nothing is copied then).
///
/// Not persisted: the journal (after a restart it starts at the snapshot's serial; a
/// secondary asking IXFR from an older serial gets the whole zone) and DNSSEC signatures
/// (the signer signs the restored version again when it goes live).
package struct ZoneSnapshot: Sendable {
    /// Bumped whenever the layout changes: another version is refused (cold start).
    package static let formatVersion: UInt32 = 1

    /// What a snapshot must match to be served: the chain and the contract.
    package struct Identity: Sendable, Equatable, CustomStringConvertible {
        /// The configured chain id (`chain.chain_id` or the network's); 0 when none is
        /// configured (then only the contract is compared).
        package var chainID: UInt64
        package var contract: EthereumAddress

        package init(chainID: UInt64, contract: EthereumAddress) {
            self.chainID = chainID
            self.contract = contract
        }

        package var description: String { "chain id \(chainID), contract \(contract.hex)" }
    }

    package var identity: Identity
    /// The block the name set is complete up to: the follower resumes after it.
    package var checkpoint: ChainCheckpoint
    package var serial: UInt32
    /// The nodes (stale ones marked to be resolved again).
    package var names: MaterializedNames

    package init(identity: Identity, checkpoint: ChainCheckpoint, serial: UInt32, names: MaterializedNames) {
        self.identity = identity
        self.checkpoint = checkpoint
        self.serial = serial
        self.names = names
    }

    /// What a snapshot is written from: the zone's entries as they were under its lock.
    package struct View: Sendable {
        package var checkpoint: ChainCheckpoint
        package var serial: UInt32
        package var entries: [MaterializedNames.Entry]

        package init(checkpoint: ChainCheckpoint, serial: UInt32, entries: [MaterializedNames.Entry]) {
            self.checkpoint = checkpoint
            self.serial = serial
            self.entries = entries
        }
    }
}

/// Why a snapshot file was not used (the log line names it; onebzd then starts cold).
package struct ZoneSnapshotRefusal: Error, CustomStringConvertible {
    package let reason: String

    package init(_ reason: String) { self.reason = reason }

    package var description: String { reason }
}
