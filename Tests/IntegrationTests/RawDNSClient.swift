import DNSWire
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Plain-socket client for what dig cannot send: garbage, pipelined TCP, stalled
/// connections. Loopback only; every call has a receive timeout.
struct RawDNSClient {
    let port: Int

    struct SocketError: Error, CustomStringConvertible { let description: String }

    /// `source`: the loopback address to send from (any of 127.0.0.0/8; default: the kernel's choice).
    func connectSocket(type: Int32, timeout: Int = 3, source: String? = nil) throws -> Int32 {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw SocketError(description: "socket failed") }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, source, &local.sin_addr)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                close(fd)
                throw SocketError(description: "bind \(source) failed: \(errno)")
            }
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw SocketError(description: "connect failed: \(errno)")
        }
        return fd
    }

    /// Sends one datagram and does not wait for an answer.
    func udpSend(_ bytes: [UInt8]) throws {
        let fd = try connectSocket(type: Int32(SOCK_DGRAM.rawValue))
        defer { close(fd) }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Sends one datagram; returns the answer, or nil on timeout.
    func udp(_ bytes: [UInt8], timeout: Int = 2) throws -> [UInt8]? {
        let fd = try connectSocket(type: Int32(SOCK_DGRAM.rawValue), timeout: timeout)
        defer { close(fd) }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var buffer = [UInt8](repeating: 0, count: 65535)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? Array(buffer[0..<count]) : nil
    }

    /// A TCP connection for tests that drive it byte by byte.
    final class Connection {
        let fd: Int32
        init(fd: Int32) { self.fd = fd }
        deinit { close(fd) }

        func send(_ bytes: [UInt8]) {
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }

        /// Reads exactly `count` bytes; nil on EOF or timeout.
        func read(_ count: Int) -> [UInt8]? {
            var result: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: count)
            while result.count < count {
                let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count - result.count, 0) }
                if got <= 0 { return nil }
                result += buffer[0..<got]
            }
            return result
        }

        /// Reads one length-framed message.
        func readMessage() -> [UInt8]? {
            guard let prefix = read(2) else { return nil }
            return read(Int(prefix[0]) << 8 | Int(prefix[1]))
        }

        /// Whether the server closed the connection (recv returns 0).
        func isClosedByPeer() -> Bool {
            var byte: UInt8 = 0
            return recv(fd, &byte, 1, 0) == 0
        }
    }

    func tcp(timeout: Int = 3, from source: String? = nil) throws -> Connection {
        Connection(fd: try connectSocket(type: Int32(SOCK_STREAM.rawValue), timeout: timeout, source: source))
    }

    /// Sends all `queries` back to back on one socket before reading any answer (so they
    /// are in flight together), then collects answers until all came or `timeout` passed.
    func udpBurst(_ queries: [[UInt8]], timeout: Duration = .seconds(10)) throws -> [[UInt8]] {
        let fd = try connectSocket(type: Int32(SOCK_DGRAM.rawValue), timeout: 1)
        defer { close(fd) }
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        for query in queries { _ = query.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } }
        var answers: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 65535)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while answers.count < queries.count, ContinuousClock.now < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { answers.append(Array(buffer[0..<count])) }
        }
        return answers
    }

    static func framed(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }

    static func query(_ name: String, _ type: RRType, id: UInt16) -> [UInt8] {
        var message = Message()
        message.header.id = id
        message.questions = [Question(name: try! Name(name), type: type)]
        return try! message.encoded()
    }
}
