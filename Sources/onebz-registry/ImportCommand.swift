import ArgumentParser
import Foundation
import NodeRegistry

/// `onebz-registry import --db FILE RECORDS`: signed records in bulk, one JSON object a
/// line (the metadata record of docs/registry.md, as `onebz sign` writes it). Every line
/// gets the API path's checks (`NodeMetadata.verify()`: node_id form, canonical key PEM,
/// SHA-256(key) = node_id, canonical addresses, Ed25519 signature; nodeHash is derived
/// from the node id) and a seq above the stored one; a bad line is reported with its
/// number and skipped. Unlike `PUT /v1/nodes`, the chain is not read per record (that
/// would be one eth_call per node): registration, verification and stake come from the
/// registry's chain view, which the running registry fills from the contract's events.
/// Signatures are checked on every core; records are written in batches, one
/// transaction each (WAL mode).
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import signed node records (JSON lines), each one checked.")

    @Option(help: "SQLite database file (created if missing; WAL mode).")
    var db: String

    @Option(help: "Records per transaction.")
    var batch: Int = 20_000

    @Option(name: .customLong("max-line"), help: "Longest accepted line in bytes (as --max-body for PUT).")
    var maxLine: Int = 16 * 1024

    @Option(name: .customLong("changes-retain"), help: "Rows the change feed keeps (as for serve).")
    var changesRetain: Int = 100_000

    @Argument(help: "The records file (JSON lines).")
    var file: String

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("invalid --batch \(batch): must be >= 1") }
        guard maxLine >= 1 else { throw ValidationError("invalid --max-line \(maxLine): must be >= 1") }
    }

    func run() async throws {
        let started = ContinuousClock.now
        let store: Store
        do { store = try Store(path: db, changesRetain: changesRetain) } catch {
            throw ValidationError("cannot open database \(db): \(error)")
        }
        guard let input = fopen(file, "r") else {
            throw ValidationError("cannot open \(file): \(String(cString: strerror(errno)))")
        }
        defer { fclose(input) }
        var lineBuffer: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(lineBuffer) }
        var lineNumber = 0
        var pending: [(Int, String)] = []
        var totals = Totals()
        while true {
            let count = getline(&lineBuffer, &capacity, input)
            if count >= 0, let lineBuffer {
                lineNumber += 1
                var length = count
                while length > 0, lineBuffer[length - 1] == 0x0A || lineBuffer[length - 1] == 0x0D { length -= 1 }
                if length == 0 { continue }
                if length > maxLine {
                    totals.bad(lineNumber, "line_too_long", "\(length) bytes, more than --max-line \(maxLine)")
                    continue
                }
                pending.append(
                    (
                        lineNumber,
                        String(decoding: UnsafeRawBufferPointer(start: lineBuffer, count: length), as: UTF8.self)
                    ))
            }
            if pending.count >= batch || (count < 0 && !pending.isEmpty) {
                try await importBatch(pending, into: store, totals: &totals)
                pending.removeAll(keepingCapacity: true)
            }
            if count < 0 { break }
        }
        if ferror(input) != 0 { throw ValidationError("cannot read \(file): \(String(cString: strerror(errno)))") }
        let seconds = Self.seconds(ContinuousClock.now - started)
        print(
            "imported \(totals.imported) records from \(lineNumber) lines in \(String(format: "%.1f", seconds)) s "
                + "(\(Int(Double(totals.imported) / max(seconds, 0.001)))/s); skipped \(totals.rejected) bad, \(totals.stale) stale"
        )
    }

    struct Totals {
        var imported = 0
        var rejected = 0
        var stale = 0

        mutating func bad(_ line: Int, _ code: String, _ detail: String) {
            rejected += 1
            FileHandle.standardError.write(Data("line \(line): \(code): \(detail)\n".utf8))
        }
    }

    /// Checks a batch on every core, then writes the good records in one transaction.
    private func importBatch(_ lines: [(Int, String)], into store: Store, totals: inout Totals) async throws {
        let slices = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let size = (lines.count + slices - 1) / slices
        let checked = await withTaskGroup(of: [(Int, Result<VerifiedNodeMetadata, ImportLineError>)].self) { group in
            for start in stride(from: 0, to: lines.count, by: size) {
                let slice = Array(lines[start..<min(lines.count, start + size)])
                group.addTask { slice.map { ($0.0, Self.check($0.1)) } }
            }
            var all: [(Int, Result<VerifiedNodeMetadata, ImportLineError>)] = []
            for await part in group { all += part }
            return all.sorted { $0.0 < $1.0 }
        }
        var good: [(index: Int, record: VerifiedNodeMetadata)] = []
        for (line, result) in checked {
            switch result {
            case .success(let record): good.append((line, record))
            case .failure(let error): totals.bad(line, error.code, error.detail)
            }
        }
        let stale = try await store.importRecords(good, now: Int64(Date().timeIntervalSince1970))
        for line in stale { totals.bad(line, "stale_seq", "seq is not greater than the stored seq") }
        totals.rejected -= stale.count
        totals.stale += stale.count
        totals.imported += good.count - stale.count
    }

    private static func check(_ line: String) -> Result<VerifiedNodeMetadata, ImportLineError> {
        let record: NodeMetadata
        do { record = try JSONDecoder().decode(NodeMetadata.self, from: Data(line.utf8)) } catch {
            return .failure(ImportLineError(code: "invalid_json", detail: "not a signed record object: \(error)"))
        }
        do { return .success(try record.verify()) } catch {
            return .failure(ImportLineError(code: error.code, detail: error.description))
        }
    }

    private static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
