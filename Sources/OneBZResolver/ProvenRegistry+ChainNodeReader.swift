import ChainReader

/// Proof mode (`chain.verify = "proof"`): the resolver reads the same facts as in call
/// mode (`lookup`, `node` at the follower's block; same signatures), each one proven
/// against the agreed block's state root.
extension ProvenRegistry: ChainNodeReader {}
