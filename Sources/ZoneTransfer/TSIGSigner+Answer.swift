import DNSEngine
import DNSWire

extension TSIGSigner {
    /// The engine's answer to a TSIG-signed query, signed: the one place both transports
    /// sign answers. `limit` is the UDP size the client can take (nil on TCP); an answer
    /// that would outgrow it once signed is sent as its header and question with TC set,
    /// signed (RFC 8945 5.3), so the client retries over TCP.
    public func signedAnswer(_ response: [UInt8], limit: Int?, now: UInt64) -> [UInt8] {
        var signer = self
        var bytes = response
        signer.sign(&bytes, now: now)
        guard let limit, bytes.count > limit else { return bytes }
        var truncated = Array(response.prefix(12))
        truncated[2] |= 0x02
        truncated[4...11] = [0, 0, 0, 0, 0, 0, 0, 0][...]
        if let end = ZoneTransferResponder.questionEnd(of: response) {
            truncated[5] = 1
            truncated += response[12..<end]
        }
        var unsent = self
        unsent.sign(&truncated, now: now)
        return truncated
    }
}

extension ZoneTransferResponder {
    /// The UDP answer size a request allows: its EDNS size (at least 512, at most ours),
    /// 512 without EDNS (RFC 6891 6.2.5, RFC 1035 4.2.1). The TSIG record counts.
    public static func udpLimit(ofRequest request: [UInt8], maxUDPPayload: Int) -> Int {
        request.withUnsafeBytes { raw in
            guard case .success(let query) = QueryView.parse(raw) else { return 512 }
            return ResponseWriter.udpLimit(query, maxUDPPayload: maxUDPPayload)
        }
    }
}
