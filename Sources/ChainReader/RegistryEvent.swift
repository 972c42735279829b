/// The four events of BizNodeRegistry, decoded.
public enum RegistryEvent: Sendable, Hashable {
    /// NodeRegistered(bytes32 indexed nodeHash, address wallet, string dnsName)
    case registered(nodeHash: Bytes32, wallet: EthereumAddress, name: String)
    /// NodeVerified(bytes32 indexed nodeHash)
    case verified(nodeHash: Bytes32)
    /// StakeAdded(bytes32 indexed nodeHash, uint256 amount)
    case stakeAdded(nodeHash: Bytes32, amount: UInt256)
    /// TrustUpdated(bytes32 indexed nodeHash, uint256 score) (declared, not emitted yet)
    case trustUpdated(nodeHash: Bytes32, score: UInt256)

    public var nodeHash: Bytes32 {
        switch self {
        case .registered(let h, _, _), .verified(let h), .stakeAdded(let h, _), .trustUpdated(let h, _): h
        }
    }

    public enum Signature {
        public static let registered = "NodeRegistered(bytes32,address,string)"
        public static let verified = "NodeVerified(bytes32)"
        public static let stakeAdded = "StakeAdded(bytes32,uint256)"
        public static let trustUpdated = "TrustUpdated(bytes32,uint256)"
        public static let all = [registered, verified, stakeAdded, trustUpdated]
    }

    public enum Topic {
        public static let registered = ABI.eventTopic(Signature.registered)
        public static let verified = ABI.eventTopic(Signature.verified)
        public static let stakeAdded = ABI.eventTopic(Signature.stakeAdded)
        public static let trustUpdated = ABI.eventTopic(Signature.trustUpdated)
        public static let all = [registered, verified, stakeAdded, trustUpdated]
    }

    /// Decodes a log of the registry; nil for a log of another event, throws when a
    /// known event's topics or data are malformed.
    public init?(log: EthereumLog) throws {
        guard let topic0 = log.topics.first else { return nil }
        guard [Topic.registered, Topic.verified, Topic.stakeAdded, Topic.trustUpdated].contains(topic0) else {
            return nil
        }
        guard log.topics.count == 2 else {
            throw ABIError.badValue("event \(topic0) has \(log.topics.count) topics, expected 2")
        }
        let nodeHash = log.topics[1]
        switch topic0 {
        case Topic.registered:
            let values = try ABI.decode([.address, .string], from: log.data)
            self = .registered(nodeHash: nodeHash, wallet: values[0].addressValue!, name: values[1].stringValue!)
        case Topic.verified:
            self = .verified(nodeHash: nodeHash)
        case Topic.stakeAdded:
            self = .stakeAdded(nodeHash: nodeHash, amount: try ABI.decode([.uint256], from: log.data)[0].uint256Value!)
        default:
            self = .trustUpdated(nodeHash: nodeHash, score: try ABI.decode([.uint256], from: log.data)[0].uint256Value!)
        }
    }
}

/// A registry event with where it happened on chain.
public struct RegistryLog: Sendable, Hashable {
    public let event: RegistryEvent
    public let blockNumber: UInt64
    public let blockHash: Bytes32
    public let logIndex: UInt64
    public let transactionHash: Bytes32?

    public init(event: RegistryEvent, blockNumber: UInt64, blockHash: Bytes32, logIndex: UInt64, transactionHash: Bytes32?) {
        self.event = event
        self.blockNumber = blockNumber
        self.blockHash = blockHash
        self.logIndex = logIndex
        self.transactionHash = transactionHash
    }
}
