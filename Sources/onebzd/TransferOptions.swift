import ArgumentParser
import TOMLConfiguration

/// Flags of zone transfers (docs/scale-out.md). Each adds to the `[transfer]` keys of
/// the config file.
struct TransferOptions: ParsableArguments {
    @Option(help: "BIND-syntax TSIG key file; repeat for several. [transfer.tsig_key_files]")
    var tsigKeyFile: [String] = []

    @Option(
        help: ArgumentHelp(
            "Allow zone transfers from PREFIX signed with KEY (PREFIX= allows unsigned ones); repeat for several. [[transfer.allow]]",
            valueName: "prefix=key"))
    var allowTransfer: [String] = []

    @Option(
        help: ArgumentHelp(
            "Send NOTIFY to HOST:PORT (signed with KEY if given) on every serial change; repeat for several. [[transfer.notify]]",
            valueName: "host:port[=key]"))
    var notify: [String] = []

    func apply(to configuration: inout ServerConfiguration) throws(ConfigurationError) {
        configuration.transfer.tsigKeyFiles += tsigKeyFile
        for text in allowTransfer {
            guard let equals = text.lastIndex(of: "=") else {
                throw ConfigurationError(
                    key: "--allow-transfer", "\"\(text)\" is not PREFIX=KEY (write PREFIX= for unsigned transfers)")
            }
            let address = try ServerConfiguration.allowPrefix(String(text[..<equals]), key: "--allow-transfer")
            let key = String(text[text.index(after: equals)...])
            configuration.transfer.allow.append(.init(address: address, key: key.isEmpty ? nil : key))
        }
        for text in notify {
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let address: HostPort
            do { address = try HostPort(parsing: String(parts[0])) } catch {
                throw ConfigurationError(key: "--notify", error.problem)
            }
            let key = parts.count == 2 && !parts[1].isEmpty ? String(parts[1]) : nil
            configuration.transfer.notify.append(.init(address: address, key: key))
        }
    }
}
