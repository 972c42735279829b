import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Free loopback ports for test servers. The kernel picks an ephemeral port that is
/// free for both TCP and UDP at the time of the call; a small race remains, which the
/// servers surface as a bind error (the test then fails loudly, it does not hang).
public enum FreePort {
    public static func next(host: String = "127.0.0.1") -> Int {
        for _ in 0..<50 {
            let port = bindEphemeral(type: Int32(SOCK_STREAM.rawValue), host: host, port: 0)
            guard port > 0 else { continue }
            // The same number must also be free for UDP (DNS listens on both).
            if bindEphemeral(type: Int32(SOCK_DGRAM.rawValue), host: host, port: port) == port {
                return port
            }
        }
        fatalError("no free loopback port found")
    }

    /// Binds a socket of `type` to host:port (0 = any), returns the bound port or -1.
    private static func bindEphemeral(type: Int32, host: String, port: Int) -> Int {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { return -1 }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { return -1 }
        var out = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &out) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: out.sin_port))
    }

    /// Whether something accepts TCP connections on host:port now.
    public static func isAcceptingTCP(host: String = "127.0.0.1", port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
