import ChainReader

/// An unsigned transaction to a contract: EIP-1559 (type 2, the default) or legacy with
/// EIP-155 replay protection. Field names follow the JSON-RPC ones.
public struct EthereumTransaction: Sendable, Hashable {
    public enum Fees: Sendable, Hashable {
        /// EIP-1559: the most per gas, and the tip to the block producer per gas.
        case eip1559(maxFeePerGas: UInt256, maxPriorityFeePerGas: UInt256)
        /// Legacy (type 0) with a gas price, for chains that want it.
        case legacy(gasPrice: UInt256)

        /// The most one unit of gas may cost.
        public var maxPerGas: UInt256 {
            switch self {
            case .eip1559(let maxFee, _): maxFee
            case .legacy(let price): price
            }
        }
    }

    public var chainID: UInt64
    public var nonce: UInt64
    public var fees: Fees
    public var gasLimit: UInt64
    public var to: EthereumAddress
    public var value: UInt256
    public var data: [UInt8]

    public init(
        chainID: UInt64, nonce: UInt64, fees: Fees, gasLimit: UInt64, to: EthereumAddress, value: UInt256 = .zero,
        data: [UInt8]
    ) {
        self.chainID = chainID
        self.nonce = nonce
        self.fees = fees
        self.gasLimit = gasLimit
        self.to = to
        self.value = value
        self.data = data
    }

    /// value + gasLimit × max fee per gas: what the wallet must hold for the node to accept it.
    public var maxCost: UInt256? {
        fees.maxPerGas.multiplied(by: gasLimit).flatMap { $0.adding(value) }
    }

    /// The digest the sender signs.
    public var signingHash: [UInt8] { Keccak256.hash(signingPayload) }

    /// EIP-1559: 0x02 || rlp([chainId, nonce, tip, maxFee, gas, to, value, data, accessList]).
    /// Legacy EIP-155: rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0]).
    public var signingPayload: [UInt8] {
        switch fees {
        case .eip1559:
            return [0x02] + RLP.list(eip1559Fields).encoded
        case .legacy:
            return RLP.list(legacyFields + [.uint(chainID), .uint(0), .uint(0)]).encoded
        }
    }

    /// Signs with `key`: the raw bytes for eth_sendRawTransaction and the hash.
    public func signed(by key: WalletKey) -> SignedTransaction {
        let signature = key.sign(digest: signingHash)
        let r = RLP.bytes(Array(signature.r.drop { $0 == 0 }))
        let s = RLP.bytes(Array(signature.s.drop { $0 == 0 }))
        let raw: [UInt8]
        switch fees {
        case .eip1559:
            raw = [0x02] + RLP.list(eip1559Fields + [.uint(UInt64(signature.recoveryID)), r, s]).encoded
        case .legacy:
            let v = UInt256(chainID).multiplied(by: 2)!.adding(UInt256(35 + UInt64(signature.recoveryID)))!  // EIP-155
            raw = RLP.list(legacyFields + [.uint256(v), r, s]).encoded
        }
        return SignedTransaction(transaction: self, from: key.address, raw: raw, signature: signature)
    }

    private var eip1559Fields: [RLP] {
        guard case .eip1559(let maxFee, let tip) = fees else { return [] }
        return [
            .uint(chainID), .uint(nonce), .uint256(tip), .uint256(maxFee), .uint(gasLimit), .bytes(to.bytes),
            .uint256(value),
            .bytes(data), .list([]),
        ]
    }

    private var legacyFields: [RLP] {
        [.uint(nonce), .uint256(fees.maxPerGas), .uint(gasLimit), .bytes(to.bytes), .uint256(value), .bytes(data)]
    }
}

/// A signed transaction, ready for eth_sendRawTransaction.
public struct SignedTransaction: Sendable, Hashable {
    public let transaction: EthereumTransaction
    public let from: EthereumAddress
    /// The serialised signed transaction (typed envelope for EIP-1559).
    public let raw: [UInt8]
    public let signature: RecoverableSignature

    /// keccak256(raw): the transaction hash the chain will report.
    public var hash: Bytes32 { Bytes32(unchecked: Keccak256.hash(raw)) }
}
