extension RegistryCommand {
    /// The chain source for --rpc/--contract (wired to ChainReader once merged).
    func makeChainSource() throws -> any ChainNodeSource {
        fatalError("ChainReader not merged yet")
    }
}
