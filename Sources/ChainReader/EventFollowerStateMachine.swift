/// The event follower's logic, without I/O (tested without sockets or sleeps): it says
/// what to fetch next (`nextAction()`), takes what was fetched, and returns the events
/// to deliver. `EventFollower` executes the actions against a `BizNodeRegistry`.
///
/// - Scans `eth_getLogs` from `startBlock` in ranges of at most `maxRange` blocks, and
///   halves the range when the endpoint says it is too large (a block-range cap or a
///   result cap); after `growAfter` full ranges in a row it doubles again, up to
///   `maxRange` (providers' caps differ, and a busy stretch of the chain passes).
/// - Only blocks up to head - `confirmations` are scanned (0 follows the head itself).
/// - Remembers the hashes of the first and last block of each range (and of blocks with
///   logs), up to `history` of them. A range whose first block's parent hash differs
///   from the remembered hash of the block before it means a reorg: it walks back over
///   the remembered blocks (`fetchHeader`) to the newest one still on the chain, reports
///   `reorg(fromBlock:)` for the block after it, and rescans from there. A fork deeper
///   than the history rescans from `startBlock`.
/// - A head below what was already scanned (a lagging endpoint behind a load balancer)
///   is waited out, not taken for a reorg: a real reorg shows up as a parent mismatch
///   once the chain is past our position again.
/// - Resuming from a checkpoint (`Configuration.resume`, a persisted snapshot's block):
///   the checkpoint's header is fetched first; while it is still the chain's block at
///   that height, it is reported `synced` and scanning continues after it (the next
///   range's parent is checked against it); when it is not (a reorg or another chain while stopped) or the chain
///   does not reach it, `reorg(fromBlock: startBlock)`: everything is read again.
public struct EventFollowerStateMachine: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// First block to scan: the contract's deploy block.
        public var startBlock: UInt64
        /// Blocks to wait below the head (0 allowed).
        public var confirmations: UInt64
        /// Largest eth_getLogs range (public Polygon endpoints cap it, often 1k–10k).
        public var maxRange: UInt64
        /// How many block hashes to remember for reorg detection.
        public var history: Int
        /// Full-size ranges in a row after which a shrunk range doubles.
        public var growAfter: Int
        /// Resume after this block instead of scanning from `startBlock` (checked first).
        public var resume: ChainCheckpoint?

        public init(
            startBlock: UInt64, confirmations: UInt64 = 0, maxRange: UInt64 = 1000, history: Int = 256,
            growAfter: Int = 4, resume: ChainCheckpoint? = nil
        ) {
            self.startBlock = startBlock
            self.resume = resume
            self.confirmations = confirmations
            self.maxRange = max(1, maxRange)
            self.history = max(2, history)
            self.growAfter = max(1, growAfter)
        }
    }

    public enum Action: Sendable, Hashable {
        /// Fetch the head block number, then call `headReceived`.
        case fetchHead
        /// Fetch the headers of the range's first and last block, then the registry logs
        /// of the range (in that order), then call `rangeReceived` (or `rangeTooLarge`).
        case fetchRange(ClosedRange<UInt64>)
        /// Fetch one header (nil if missing), then call `headerReceived`.
        case fetchHeader(UInt64)
        /// Caught up or after a failure: wait a poll interval, then call `waited()`.
        case wait
    }

    private enum State: Sendable, Hashable {
        /// Fetching the resume checkpoint's header (before anything else).
        case checkingResume(ChainCheckpoint)
        case needHead
        case scanning(safeHead: UInt64)
        case searchingFork(candidate: UInt64, safeHead: UInt64)
        case waiting
    }

    public let configuration: Configuration
    private var state: State = .needHead
    /// The first block not scanned yet.
    public private(set) var nextBlock: UInt64
    /// The current range limit (shrinks on "range too large", grows back after successes).
    public private(set) var maxRange: UInt64
    /// Full-size ranges received since the range last changed.
    private var fullRanges = 0
    /// Remembered block hashes (number -> hash), at most `history` entries.
    private var hashes: [UInt64: Bytes32] = [:]
    /// The resume checkpoint until its header was checked.
    private var unchecked: ChainCheckpoint?

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.nextBlock = configuration.startBlock
        self.maxRange = configuration.maxRange
        if let resume = configuration.resume, resume.number >= configuration.startBlock {
            unchecked = resume
            state = .checkingResume(resume)
        }
    }

    /// The hash remembered for block `number` (a synced block's, for checkpoints).
    public func hash(of number: UInt64) -> Bytes32? { hashes[number] }

    public func nextAction() -> Action {
        switch state {
        case .checkingResume(let resume): return .fetchHeader(resume.number)
        case .needHead: return .fetchHead
        case .waiting: return .wait
        case .searchingFork(let candidate, _): return .fetchHeader(candidate)
        case .scanning(let safeHead):
            guard nextBlock <= safeHead else { return .wait }
            let (end, overflow) = nextBlock.addingReportingOverflow(maxRange - 1)
            return .fetchRange(nextBlock...(overflow ? safeHead : min(end, safeHead)))
        }
    }

    /// The head block number (of the `latest` block, or of the `finalized` block with
    /// confirmations 0).
    public mutating func headReceived(_ head: UInt64) {
        guard head >= configuration.confirmations else {
            state = .waiting
            return
        }
        let safeHead = head - configuration.confirmations
        state = nextBlock <= safeHead ? .scanning(safeHead: safeHead) : .waiting
    }

    /// The logs of `range` and the headers of its first and last block.
    public mutating func rangeReceived(
        _ range: ClosedRange<UInt64>, logs: [RegistryLog], first: BlockHeader, last: BlockHeader
    ) -> [FollowerEvent] {
        guard case .scanning(let safeHead) = state, range.lowerBound == nextBlock else { return [] }
        guard isConsistent(range, logs: logs, first: first, last: last) else {
            // The chain moved while we fetched (or load-balanced backends disagree): wait
            // a poll interval, then fetch again from the head.
            state = .waiting
            return []
        }
        if range.lowerBound > 0, let known = hashes[range.lowerBound - 1], known != first.parentHash {
            startForkSearch(below: range.lowerBound, safeHead: safeHead)
            return []
        }
        remember(first)
        remember(last)
        for log in logs { remember(number: log.blockNumber, hash: log.blockHash) }
        nextBlock = range.upperBound + 1
        grow(after: range)
        var events = logs.sorted { ($0.blockNumber, $0.logIndex) < ($1.blockNumber, $1.logIndex) }
            .map { FollowerEvent($0) }
        if range.upperBound == safeHead {
            events.append(.synced(block: range.upperBound))
        }
        return events
    }

    /// The endpoint refused the range as too large: halve it (down to one block).
    public mutating func rangeTooLarge(_ range: ClosedRange<UInt64>) {
        maxRange = max(1, min(maxRange, UInt64(range.count) / 2))
        fullRanges = 0
    }

    /// A header asked for by `.fetchHeader` (nil when the block does not exist).
    public mutating func headerReceived(_ number: UInt64, _ header: BlockHeader?) -> [FollowerEvent] {
        if case .checkingResume(let resume) = state, resume.number == number {
            unchecked = nil
            state = .needHead
            guard let header, header.hash == resume.hash else {
                // Not the chain's block (a reorg while stopped, or another chain): the state
                // built up to it is not trusted; everything is read again.
                nextBlock = configuration.startBlock
                hashes = [:]
                return [.reorg(fromBlock: configuration.startBlock)]
            }
            nextBlock = resume.number + 1
            remember(header)
            // Everything up to the checkpoint is known (the snapshot holds it): lookups may
            // be pinned there at once, even when no block follows for a while.
            return [.synced(block: resume.number)]
        }
        guard case .searchingFork(let candidate, let safeHead) = state, candidate == number else { return [] }
        if let header, hashes[number] == header.hash {
            return reorg(from: number + 1, safeHead: safeHead)
        }
        hashes[number] = nil
        startForkSearch(below: number, safeHead: safeHead)
        if case .searchingFork = state { return [] }
        // Nothing remembered below: the fork is deeper than our history.
        return reorg(from: configuration.startBlock, safeHead: safeHead)
    }

    /// A fetch failed (after the client's own retries): wait, then start over.
    /// A fork search that failed starts again from the parent mismatch it came from.
    public mutating func failed() {
        state = .waiting
    }

    /// The wait of a `.wait` action is over.
    public mutating func waited() {
        state = unchecked.map { State.checkingResume($0) } ?? .needHead
    }

    // MARK: private

    private mutating func grow(after range: ClosedRange<UInt64>) {
        guard maxRange < configuration.maxRange, UInt64(range.count) >= maxRange else { return }
        fullRanges += 1
        if fullRanges >= configuration.growAfter {
            maxRange = min(configuration.maxRange, maxRange * 2)
            fullRanges = 0
        }
    }

    private func isConsistent(
        _ range: ClosedRange<UInt64>, logs: [RegistryLog], first: BlockHeader, last: BlockHeader
    ) -> Bool {
        guard first.number == range.lowerBound, last.number == range.upperBound else { return false }
        if range.count == 1, first.hash != last.hash { return false }
        if range.count == 2, last.parentHash != first.hash { return false }
        for log in logs {
            guard range.contains(log.blockNumber) else { return false }
            if log.blockNumber == first.number, log.blockHash != first.hash { return false }
            if log.blockNumber == last.number, log.blockHash != last.hash { return false }
        }
        return true
    }

    private mutating func startForkSearch(below number: UInt64, safeHead: UInt64) {
        if let candidate = hashes.keys.filter({ $0 < number }).max() {
            state = .searchingFork(candidate: candidate, safeHead: safeHead)
        } else {
            state = .scanning(safeHead: safeHead)
        }
    }

    private mutating func reorg(from block: UInt64, safeHead: UInt64) -> [FollowerEvent] {
        let from = max(block, configuration.startBlock)
        hashes = hashes.filter { $0.key < from }
        nextBlock = from
        state = .scanning(safeHead: safeHead)
        return [.reorg(fromBlock: from)]
    }

    private mutating func remember(_ header: BlockHeader) {
        remember(number: header.number, hash: header.hash)
    }

    private mutating func remember(number: UInt64, hash: Bytes32) {
        hashes[number] = hash
        if hashes.count > configuration.history, let oldest = hashes.keys.min() {
            hashes[oldest] = nil
        }
    }
}
