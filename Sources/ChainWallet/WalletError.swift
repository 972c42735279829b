/// Why a wallet operation failed: what, and (in `message`) what to do about it. A public
/// struct over a private code so that new kinds do not break callers.
public struct WalletError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Kind: Hashable, Sendable {
        private let code: Int
        private init(_ code: Int) { self.code = code }
        /// The key file is missing, unreadable or not a key.
        public static let invalidKey = Kind(1)
        /// A keystore's password is wrong (the MAC does not match).
        public static let wrongPassword = Kind(2)
        /// The keystore is not a v3 keystore we can read.
        public static let invalidKeystore = Kind(3)
        /// The contract would revert (estimate) or did revert (receipt).
        public static let reverted = Kind(4)
        /// The wallet cannot pay value + the most the gas may cost.
        public static let insufficientFunds = Kind(5)
        /// The endpoint's fees exceed the --max-fee guard.
        public static let feeTooHigh = Kind(6)
        /// The endpoint refused the transaction (nonce, underpriced, ...).
        public static let rejected = Kind(7)
        /// No receipt within the wait limit (the transaction may still be mined).
        public static let receiptTimeout = Kind(8)
        /// Bad input (an amount, a name, a fee).
        public static let invalidInput = Kind(9)
    }

    public let kind: Kind
    public let message: String
    /// The contract's revert reason, when `kind == .reverted` and it gave one.
    public let revertReason: String?

    public init(_ kind: Kind, _ message: String, revertReason: String? = nil) {
        self.kind = kind
        self.message = message
        self.revertReason = revertReason
    }

    public var description: String { message }
}
