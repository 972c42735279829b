/// eth_getProof (EIP-1186), parsed and verified.
extension JSONRPCClient {
    /// eth_getProof for `slots` of `address` at `block`, parsed but not verified.
    public func proof(address: EthereumAddress, slots: [UInt256], at block: BlockTag) async throws -> AccountProof {
        try await call("eth_getProof", Self.proofParams(address, slots, block)) { try AccountProof(json: $0) }
    }

    /// eth_getProof at block number `block`, checked against that block's `stateRoot`
    /// before it is accepted: a proof that does not verify counts as an invalid answer of
    /// the endpoint that sent it, so the call moves on to the next endpoint (and
    /// `rejected` hears about it, for metrics and logs). Returns the proof and the proven
    /// value of every slot.
    public func provenStorage(
        address: EthereumAddress, slots: [UInt256], at block: UInt64, stateRoot: Bytes32,
        rejected: @Sendable (ProofError) -> Void = { _ in }
    ) async throws -> (proof: AccountProof, values: [UInt256: UInt256]) {
        try await call("eth_getProof", Self.proofParams(address, slots, .number(block))) { result in
            do throws(ProofError) {
                let proof = try AccountProof(json: result)
                return (proof, try proof.verify(stateRoot: stateRoot, address: address, slots: slots))
            } catch {
                rejected(error)
                throw error
            }
        }
    }

    static func proofParams(_ address: EthereumAddress, _ slots: [UInt256], _ block: BlockTag) -> [JSONValue] {
        [.string(address.hex), .array(slots.map { .string($0.hex) }), block.jsonValue]
    }
}
