/// Requests in the last minute, counted in one-second slots (pure: time is an argument,
/// in whole seconds of a monotonic clock). Feeds an endpoint's requests/min.
struct RequestWindow: Sendable, Equatable {
    private var slots = [UInt64](repeating: 0, count: 60)
    private var seconds = [Int64](repeating: .min, count: 60)

    mutating func add(at second: Int64) {
        let slot = Int(second.remainderReportingOverflow(dividingBy: 60).partialValue + 60) % 60
        if seconds[slot] != second {
            seconds[slot] = second
            slots[slot] = 0
        }
        slots[slot] += 1
    }

    /// Requests in the 60 seconds ending with `second`.
    func lastMinute(at second: Int64) -> UInt64 {
        var total: UInt64 = 0
        for (slot, count) in slots.enumerated() where seconds[slot] > second - 60 && seconds[slot] <= second {
            total += count
        }
        return total
    }
}
