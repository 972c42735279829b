import ChainReader
import ChainWallet
import Testing

/// The sender's fee and gas decisions, without an endpoint.
@Suite struct SendPolicyTests {
    static let gwei = Wei.perGwei

    @Test func eip1559MaxFeeIsTwiceTheBaseFeePlusTheTip() throws {
        let fees = try SendPolicy().eip1559Fees(
            baseFee: Self.gwei.multiplied(by: 30)!, suggestedTip: Self.gwei.multiplied(by: 25)!)
        #expect(
            fees
                == .eip1559(
                    maxFeePerGas: Self.gwei.multiplied(by: 85)!, maxPriorityFeePerGas: Self.gwei.multiplied(by: 25)!))
    }

    @Test func ownTipWinsAndMissingSuggestionMeansTwoGwei() throws {
        var policy = SendPolicy()
        #expect(try policy.eip1559Fees(baseFee: .zero, suggestedTip: nil).maxPerGas == Self.gwei.multiplied(by: 2)!)
        policy.priorityFeePerGas = Self.gwei.multiplied(by: 40)!
        let fees = try policy.eip1559Fees(baseFee: Self.gwei, suggestedTip: Self.gwei)
        #expect(
            fees
                == .eip1559(
                    maxFeePerGas: Self.gwei.multiplied(by: 42)!, maxPriorityFeePerGas: Self.gwei.multiplied(by: 40)!))
    }

    @Test func theGuardCapsTheMaxFeeAndRefusesWhenTheBaseFeeAloneExceedsIt() throws {
        var policy = SendPolicy()
        policy.maxFeePerGas = Self.gwei.multiplied(by: 100)!
        // 2 × 60 + 30 = 150 > 100: capped, still above base + tip (90)
        let capped = try policy.eip1559Fees(
            baseFee: Self.gwei.multiplied(by: 60)!, suggestedTip: Self.gwei.multiplied(by: 30)!)
        #expect(capped.maxPerGas == Self.gwei.multiplied(by: 100)!)
        #expect(throws: WalletError.self) {
            try policy.eip1559Fees(baseFee: Self.gwei.multiplied(by: 95)!, suggestedTip: Self.gwei.multiplied(by: 30)!)
        }
        #expect(throws: WalletError.self) { try policy.legacyFees(gasPrice: Self.gwei.multiplied(by: 101)!) }
        #expect(
            try policy.legacyFees(gasPrice: Self.gwei.multiplied(by: 99)!)
                == .legacy(gasPrice: Self.gwei.multiplied(by: 99)!))
    }

    @Test func gasLimitHasAMarginAndACap() {
        var policy = SendPolicy()
        #expect(policy.gasLimit(estimate: 100_000) == 120_000)
        policy.gasCap = 110_000
        #expect(policy.gasLimit(estimate: 100_000) == 110_000)
    }

    @Test func maxCostIsValuePlusGasTimesMaxFee() {
        let tx = EthereumTransaction(
            chainID: 1, nonce: 0, fees: .legacy(gasPrice: Self.gwei), gasLimit: 21_000,
            to: EthereumAddress(unchecked: [UInt8](repeating: 1, count: 20)), value: Wei.perEther, data: [])
        #expect(tx.maxCost?.description == "1000021000000000000")
    }
}
