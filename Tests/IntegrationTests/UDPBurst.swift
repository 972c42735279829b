import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Sends many queries for one name back to back on one UDP socket, before reading any
/// answer, so that they are all in flight at once; then collects the answers.
enum UDPBurst {
    static func send(name: String, qtype: UInt16, count: Int, port: Int, timeout: Duration = .seconds(10)) throws
        -> [[UInt8]]
    {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        for id in 0..<count {
            let query = message(id: UInt16(id), name: name, qtype: qtype)
            _ = query.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        }
        var answers: [[UInt8]] = []
        var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while answers.count < count, ContinuousClock.now < deadline {
            guard poll(&pollFD, 1, 200) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { answers.append(Array(buffer[0..<n])) }
        }
        return answers
    }

    /// A plain query (RD clear, no EDNS).
    static func message(id: UInt16, name: String, qtype: UInt16) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            bytes.append(UInt8(label.utf8.count))
            bytes += label.utf8
        }
        bytes += [0, UInt8(qtype >> 8), UInt8(qtype & 0xff), 0, 1]
        return bytes
    }
}
