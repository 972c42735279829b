import ArgumentParser

/// `onebz-registry [serve] ...` runs the registry; `onebz-registry import FILE` loads
/// signed records in bulk.
@main
struct RegistryMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onebz-registry",
        abstract: "The 1bz off-chain registry: signed node metadata, heartbeats, trust scores (docs/registry.md).",
        subcommands: [RegistryCommand.self, ImportCommand.self, BenchCommand.self],
        defaultSubcommand: RegistryCommand.self)
}
