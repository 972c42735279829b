import Foundation
import TestSupport

/// Validators we did not write, on loopback: unbound (validator + iterator, the zone's
/// DS as its only trust anchor, a stub for the zone pointing at onebzd, every other
/// name refused so nothing leaves loopback) and delv.
final class ValidatingResolver: Sendable {
    let port: Int
    let process: ManagedProcess
    let directory: URL

    /// A DNS-over-TLS upstream (RFC 7858): unbound forwards the zone there over TLS
    /// (`forward-tls-upstream`), checking the certificate against `bundle` for `hostname`.
    struct TLSUpstream {
        var port: Int
        var hostname: String
        var bundle: String
    }

    /// `ds`: the DS RR in presentation format (`1bz. 3600 IN DS ...`). With `tls`, the
    /// zone is forwarded to that DoT upstream instead of the stub over UDP/TCP.
    init(
        authorityPort: Int, ds: String, label: String, extraServerConfig: String = "", tls: TLSUpstream? = nil
    ) async throws {
        port = FreePort.next()
        directory = try Repo.scratchDirectory(label)
        let hints = directory.appendingPathComponent("root.hints")
        try "".write(to: hints, atomically: true, encoding: .utf8)
        let config = directory.appendingPathComponent("unbound.conf")
        try """
        server:
            interface: 127.0.0.1
            port: \(port)
            do-ip6: no
            do-not-query-localhost: no
            chroot: ""
            username: ""
            directory: "\(directory.path)"
            pidfile: "\(directory.appendingPathComponent("unbound.pid").path)"
            use-syslog: no
            logfile: ""
            verbosity: 1
            val-log-level: 2
            num-threads: 1
            so-reuseport: no
            module-config: "validator iterator"
            root-hints: "\(hints.path)"
            \(ds.split(separator: "\n").map { "trust-anchor: \"\($0)\"" }.joined(separator: "\n    "))
            \(extraServerConfig)
            qname-minimisation: no
            # Nothing but the zone under test: no root priming, no traffic off loopback.
            local-zone: "." refuse
            local-zone: "1bz." transparent
            access-control: 127.0.0.0/8 allow
        \(tls.map { "    tls-cert-bundle: \"\($0.bundle)\"" } ?? "")
        \(tls.map { "forward-zone:\n    name: \"1bz.\"\n    forward-addr: 127.0.0.1@\($0.port)#\($0.hostname)\n    forward-tls-upstream: yes" } ?? "stub-zone:\n    name: \"1bz.\"\n    stub-addr: 127.0.0.1@\(authorityPort)")
        remote-control:
            control-enable: no
        """.write(to: config, atomically: true, encoding: .utf8)
        process = try ManagedProcess(
            name: "unbound", executable: URL(fileURLWithPath: "/usr/sbin/unbound"),
            arguments: ["-d", "-c", config.path], logDirectory: directory)
        try await process.waitForTCP(port: port)
    }

    /// `dig +dnssec` through unbound (recursion desired).
    func dig(_ arguments: [String]) throws -> DigResult {
        let result = try Command.run(
            "dig", ["@127.0.0.1", "-p", "\(port)", "+dnssec", "+time=5", "+tries=1", "+nocmd", "+nostats"] + arguments)
        return DigResult(output: result.stdout)
    }

    deinit { process.stop() }

    /// `delv @127.0.0.1 -p PORT -a ANCHOR +root=1bz NAME TYPE` with the DS as a
    /// static trust anchor: its first line says "fully validated" or why not.
    /// `zone`: the zone the DS belongs to (another zone onebzd serves, `[[zones]]`).
    static func delv(
        authorityPort: Int, ds: String, name: String, type: String, directory: URL, zone: String = "1bz"
    ) throws -> String {
        let fields = ds.split(separator: " ")
        let anchor = directory.appendingPathComponent("anchor.conf")
        try """
        trust-anchors {
            \(zone). static-ds \(fields[4]) \(fields[5]) \(fields[6]) "\(fields[7])";
        };
        """.write(to: anchor, atomically: true, encoding: .utf8)
        let result = try Command.run(
            "delv", ["@127.0.0.1", "-p", "\(authorityPort)", "-a", anchor.path, "+root=\(zone)", name, type])
        return result.stdout + result.stderr
    }
}
