import ArgumentParser
import DNSSEC
import DNSWire
import Foundation

/// `onebzd dnssec keygen|ds|status`: the zone's keys in a key directory (BIND format).
struct DNSSECCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnssec",
        abstract: "Manage the zone's DNSSEC keys (BIND-format files in a key directory).",
        subcommands: [Keygen.self, DS.self, Status.self, Rollover.self, DSSeen.self, Speed.self])

    struct Common: ParsableArguments {
        @Option(help: "Directory holding the K<zone>+<alg>+<tag>.key/.private files.")
        var keyDir: String

        // `--apex`, not `--origin`: the parent command's `--origin` (DNSOptions) would
        // take that flag and this one would silently stay 1bz.
        @Option(help: "The zone (apex), e.g. gw.example. for a zone of [[zones]].")
        var apex: String = "1bz."

        func zone() throws -> Name {
            do { return try Name(apex) } catch { throw ValidationError("--apex '\(apex)' is not a domain name") }
        }

        func keys() throws -> [BINDKeyFile] {
            do { return try BINDKeyFile.load(directory: keyDir, zone: try zone()) } catch let error as DNSSECError {
                throw DNSSECCommand.failure(error.description)
            }
        }
    }

    static func failure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("onebzd: error: \(message)\n".utf8))
        return ExitCode(1)
    }

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a combined signing key (CSK, flags 257) and write its key files.",
            discussion: "Prints the base name of the new files (K<zone>+<alg>+<tag>).")

        @OptionGroup var common: Common

        @Option(help: "ecdsap256sha256 (13, the default) or ed25519 (15).")
        var algorithm: String = "ecdsap256sha256"

        func run() throws {
            guard let algorithm = DNSSECAlgorithm(text: algorithm) else {
                throw ValidationError("--algorithm must be ecdsap256sha256 or ed25519")
            }
            let zone = try common.zone()
            do {
                let key = try SigningKey.generate(algorithm: algorithm)
                let file = BINDKeyFile(zone: zone, key: key, created: Self.now)
                try file.write(to: common.keyDir)
                print(file.baseName)
            } catch {
                throw DNSSECCommand.failure(error.description)
            }
        }

        static var now: UInt32 { UInt32(Date().timeIntervalSince1970) }
    }

    struct DS: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the DS records (digest type 2, SHA-256) of the zone's SEP keys for the parent.")

        @OptionGroup var common: Common

        @Option(help: "TTL written on the DS records.")
        var ttl: UInt32 = 3600

        func run() throws {
            let zone = try common.zone()
            // What CDS says the parent should hold: SEP keys published now and not retiring.
            let now = Keygen.now
            let keys = try common.keys().filter {
                $0.key.isSecureEntryPoint && $0.isPublished(at: now) && $0.inactive == nil && $0.delete == nil
            }
            guard !keys.isEmpty else { throw DNSSECCommand.failure("\(common.keyDir): no key-signing key for \(zone)") }
            for file in keys { print(DSDigest.presentation(owner: zone, key: file.key, ttl: ttl)) }
        }
    }

    /// Timers of a roll, in seconds (the server takes them from [dnssec]).
    struct RollTimers: ParsableArguments {
        @Option(help: "Seconds a successor is published before it signs (and a retired key after). [dnssec.prepublish]")
        var prepublish: UInt32 = 3600

        @Option(
            name: .customLong("parent-ds-ttl"),
            help: "Seconds the parent's DS is cached: the old key signs this long after DS-seen. [dnssec.parent_ds_ttl]")
        var parentDSTTL: UInt32 = 86_400

        var policy: KeyRollover.Policy { KeyRollover.Policy(prepublish: prepublish, parentDSTTL: parentDSTTL) }
    }

    struct Rollover: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a key rollover: a successor key, published now, signing after --prepublish.",
            discussion: """
                A running onebzd picks it up within dnssec.check_interval. The successor's DS is
                published as CDS/CDNSKEY; once the parent has it, run `onebzd dnssec ds-seen`.
                """)

        @OptionGroup var common: Common
        @OptionGroup var timers: RollTimers

        func run() throws {
            let files = try common.keys()
            do {
                guard
                    let file = try KeyRollover.start(
                        files, zone: try common.zone(), now: Keygen.now, policy: timers.policy)
                else { throw DNSSECCommand.failure("a rollover is already under way (see `onebzd dnssec status`)") }
                try file.write(to: common.keyDir)
                print(file.baseName)
            } catch let error as DNSSECError {
                throw DNSSECCommand.failure(error.description)
            }
        }
    }

    struct DSSeen: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ds-seen",
            abstract: "Confirm the parent publishes the successor's DS: the old key retires.")

        @OptionGroup var common: Common
        @OptionGroup var timers: RollTimers

        static func write(_ file: BINDKeyFile, to directory: String) throws {
            do { try file.write(to: directory) } catch { throw DNSSECCommand.failure(error.description) }
        }

        func run() throws {
            let files = try common.keys()
            let changed = KeyRollover.dsSeen(files, now: Keygen.now, policy: timers.policy)
            guard !changed.isEmpty else {
                throw DNSSECCommand.failure("no rollover waits for a DS (none under way, or the successor is not active yet)")
            }
            for file in changed { try Self.write(file, to: common.keyDir) }
            for file in changed { print("\(file.baseName) retires: inactive \(BINDKeyFile.timestamp(file.inactive ?? 0))") }
        }
    }

    struct Status: ParsableCommand {

        static let configuration = CommandConfiguration(abstract: "List the zone's keys: tag, algorithm, role, state.")

        @OptionGroup var common: Common

        func run() throws {
            let keys = try common.keys()
            let now = Keygen.now
            if keys.isEmpty { print("no keys for \(try common.zone()) in \(common.keyDir)") }
            for file in keys {
                let state = KeyRollover.state(of: file, in: keys, at: now).rawValue
                let role = file.key.isSecureEntryPoint ? "CSK (flags 257)" : "ZSK (flags 256)"
                var line = "\(file.baseName)  tag \(file.key.keyTag)  \(file.key.algorithm.mnemonic)  \(role)  \(state)"
                let times: [(String, UInt32?)] = [
                    ("activate", file.activate), ("inactive", file.inactive), ("delete", file.delete),
                ]
                for case (let name, let time?) in times where time > now { line += "  \(name) \(BINDKeyFile.timestamp(time))" }
                print(line)
            }
            let rolling = keys.filter { $0.inactive == nil && $0.delete == nil }.count > 1
            print(
                rolling
                    ? "rollover under way: run `onebzd dnssec ds-seen` once the parent publishes the new DS"
                    : "next rollover: by hand (`onebzd dnssec rollover`), or dnssec.key_lifetime after activation")
        }
    }
}

extension DNSSECCommand {
    /// `onebzd dnssec speed`: signatures per second on one core, per algorithm (as
    /// `openssl speed` does for its primitives): what a miss or a re-sign costs.
    struct Speed: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure RRset signatures per second on one core for each algorithm.")

        @Option(help: "Seconds per algorithm.")
        var seconds: Double = 2

        func run() throws {
            let zone = try Name("1bz.")
            let owner = try Name("shashi.1bz.")
            let rrset = (1...3).map {
                ResourceRecord(name: owner, type: .txt, ttl: 300, rdata: [UInt8]("\u{14}verified=yes wallet=\($0)".utf8))
            }
            for algorithm in [DNSSECAlgorithm.ecdsaP256SHA256, .ed25519] {
                let signer = ZoneSigner(apex: zone, keys: [try SigningKey.generate(algorithm: algorithm)])
                let clock = ContinuousClock()
                let start = clock.now
                var count = 0
                while clock.now - start < .milliseconds(Int64(seconds * 1000)) {
                    for _ in 0..<100 { _ = try signer.signatures(over: rrset, now: 1_780_000_000, timing: .dynamicDefault) }
                    count += 100
                }
                let elapsed = clock.now - start
                let perSecond = Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                print("\(algorithm.mnemonic): \(Int(perSecond)) signatures/s on one core (\(String(format: "%.1f", 1e6 / perSecond)) µs each)")
            }
        }
    }
}
