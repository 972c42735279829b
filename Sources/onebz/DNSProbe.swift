import DNSWire
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One DNS question over UDP to one server (what `dig @HOST -p PORT` does), for
/// `onebz status`: no recursion, no retries beyond one resend, a short timeout.
struct DNSProbe {
    let host: String
    let port: UInt16
    var timeout: TimeInterval = 2

    /// `HOST:PORT` or `[v6]:PORT`; a bare HOST means port 53.
    init(_ text: String) throws {
        var hostPart = Substring(text)
        var port: UInt16 = 53
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let p = UInt16(rest.dropFirst()) else { throw CLIError("--dns: bad port in \(text)") }
                port = p
            }
        } else if let colon = text.lastIndex(of: ":"), text.filter({ $0 == ":" }).count == 1 {
            hostPart = text[..<colon]
            guard let p = UInt16(text[text.index(after: colon)...]) else {
                throw CLIError("--dns: bad port in \(text)")
            }
            port = p
        }
        self.host = String(hostPart)
        self.port = port
    }

    func query(_ name: String, _ type: RRType) throws -> Message {
        let id = UInt16.random(in: 0...UInt16.max)
        let qname: Name
        do { qname = try Name(name) } catch { throw CLIError("\(name) is not a DNS name: \(error)") }
        var packet: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        packet += qname.wire + [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xff), 0, 1]

        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw CLIError("--dns: \(host) is not an IP address")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, 0)
        guard fd >= 0 else { throw CLIError("cannot open a UDP socket: errno \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            throw CLIError("cannot reach DNS server \(host):\(port): errno \(errno)")
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<2 {
            _ = packet.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { continue }
            let reply = Array(buffer[0..<n])
            guard reply.count >= 2, UInt16(reply[0]) << 8 | UInt16(reply[1]) == id else { continue }
            do { return try Message(decoding: reply) } catch {
                throw CLIError("DNS answer from \(host):\(port) does not parse: \(error)")
            }
        }
        throw CLIError("no DNS answer from \(host):\(port) for \(name) \(type) within \(Int(timeout)) s (twice)")
    }
}
