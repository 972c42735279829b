import ArgumentParser
import DNSSEC
import DNSWire
import Foundation

/// `onebzd dnssec keygen|ds|status`: the zone's keys in a key directory (BIND format).
struct DNSSECCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnssec",
        abstract: "Manage the zone's DNSSEC keys (BIND-format files in a key directory).",
        subcommands: [Keygen.self, DS.self, Status.self])

    struct Common: ParsableArguments {
        @Option(help: "Directory holding the K<zone>+<alg>+<tag>.key/.private files.")
        var keyDir: String

        @Option(help: "The zone (apex).")
        var origin: String = "1bz."

        func zone() throws -> Name {
            do { return try Name(origin) } catch { throw ValidationError("--origin '\(origin)' is not a domain name") }
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
                try FileManager.default.createDirectory(atPath: common.keyDir, withIntermediateDirectories: true)
                let key = try SigningKey.generate(algorithm: algorithm)
                let file = BINDKeyFile(zone: zone, key: key, created: Self.now)
                try file.write(to: common.keyDir)
                print(file.baseName)
            } catch let error as DNSSECError {
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
            let keys = try common.keys().filter { $0.key.isSecureEntryPoint }
            guard !keys.isEmpty else { throw DNSSECCommand.failure("\(common.keyDir): no key-signing key for \(zone)") }
            for file in keys { print(DSDigest.presentation(owner: zone, key: file.key, ttl: ttl)) }
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
                let state =
                    file.isActive(at: now) ? "active" : file.isPublished(at: now) ? "published" : "not published"
                let role = file.key.isSecureEntryPoint ? "CSK (flags 257)" : "ZSK (flags 256)"
                var line = "\(file.baseName)  tag \(file.key.keyTag)  \(file.key.algorithm.mnemonic)  \(role)  \(state)"
                if let inactive = file.inactive { line += "  inactive \(BINDKeyFile.timestamp(inactive))" }
                print(line)
            }
            print("next rollover: none scheduled (automatic rollover is not implemented yet; see docs/dnssec.md)")
        }
    }
}
