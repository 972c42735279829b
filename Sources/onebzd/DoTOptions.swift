import ArgumentParser
import TOMLConfiguration

/// Flags of DNS over TLS and XoT (docs/dns.md). Each overrides the `[dot]` key of the
/// config file; `--dot-listen` with the two files is enough to serve DoT.
struct DoTOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Serve DNS over TLS (and XoT) on HOST:PORT (a bare address: port 853); repeat for several. [dot.listen]",
            valueName: "host:port"))
    var dotListen: [String] = []

    @Option(help: ArgumentHelp("PEM certificate chain for DNS over TLS. [dot.cert_file]", valueName: "file"))
    var dotCert: String?

    @Option(help: ArgumentHelp("PEM private key of --dot-cert. [dot.key_file]", valueName: "file"))
    var dotKey: String?

    func apply(to configuration: inout ServerConfiguration) throws(ConfigurationError) {
        guard !dotListen.isEmpty || dotCert != nil || dotKey != nil else { return }
        var dot = configuration.dot ?? ServerConfiguration.DoT()
        if !dotListen.isEmpty {
            dot.listen = []
            for text in dotListen { dot.listen.append(try ServerConfiguration.dotAddress(text, key: "--dot-listen")) }
        }
        if let dotCert { dot.certFile = dotCert }
        if let dotKey { dot.keyFile = dotKey }
        for (value, key) in [
            (dot.listen.isEmpty, "--dot-listen"), (dot.certFile.isEmpty, "--dot-cert"),
            (dot.keyFile.isEmpty, "--dot-key"),
        ]
        where value {
            throw ConfigurationError(
                key: key, "is required to serve DNS over TLS (with --dot-listen, --dot-cert, --dot-key)")
        }
        configuration.dot = dot
    }
}
