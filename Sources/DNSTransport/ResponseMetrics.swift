import DNSEngine
import DNSWire
import Metrics
import NIOCore

/// `onebz_dns_responses_total{transport, rcode}`: every answer UDP and TCP send, by
/// response code (RFC 1035 4.1.1 RCODE, the low four bits of byte 3). Counters are made
/// once, on first use (after onebzd bootstrapped the metrics system), so recording is
/// one array index and one atomic add.
enum ResponseMetrics {
    private static let udp = counters("udp")
    private static let tcp = counters("tcp")

    static func record(_ response: ByteBuffer, transport: Transport) {
        guard let flags = response.getInteger(at: response.readerIndex + 3, as: UInt8.self) else { return }
        (transport == .udp ? udp : tcp)[Int(flags & 0x0f)].increment()
    }

    /// Counts kept by one thread and added to the shared counters once per burst, so
    /// threads answering in parallel do not contend for the counters' cache lines.
    struct Tally {
        /// Allocated once per thread; counting mutates it in place.
        private var byRcode = [Int](repeating: 0, count: 16)
        private var any = false

        mutating func count(response: UnsafeRawBufferPointer) {
            guard response.count > 3 else { return }
            byRcode[Int(response[3] & 0x0f)] += 1
            any = true
        }

        mutating func flush(transport: Transport) {
            guard any else { return }
            let counters = transport == .udp ? ResponseMetrics.udp : ResponseMetrics.tcp
            for rcode in 0..<16 where byRcode[rcode] > 0 {
                counters[rcode].increment(by: Int64(byRcode[rcode]))
                byRcode[rcode] = 0
            }
            any = false
        }
    }

    private static func counters(_ transport: String) -> [Counter] {
        (0..<16).map { code in
            Counter(
                label: "onebz_dns_responses_total",
                dimensions: [("transport", transport), ("rcode", Rcode(rawValue: UInt16(code)).description)])
        }
    }
}
