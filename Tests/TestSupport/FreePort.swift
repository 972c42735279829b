import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Free loopback ports for test servers.
///
/// A port picked by the kernel (bind to port 0) comes from the ephemeral range, the same
/// range every outgoing connection and UDP query takes its source port from: between the
/// moment a test picks a port and the moment its server binds it (seconds, when a devnet
/// starts first), any process on the machine may take it, and a server that then fails
/// to bind while something else answers on "its" port makes a test fail for no bug (a
/// Knot secondary did, in CI). So ports come from below the ephemeral range instead, and
/// each test process takes a block of them for itself: a lock file per block, held until
/// the process exits, keeps test processes running side by side out of each other's way.
/// Each port is still checked free for TCP and UDP before it is handed out.
public enum FreePort {
    public static func next(host: String = "127.0.0.1") -> Int {
        guard let block = PortBlock.shared else { return kernelPicked(host: host) }
        for _ in 0..<PortBlock.size {
            let port = block.nextCandidate()
            if bindEphemeral(type: Int32(SOCK_STREAM.rawValue), host: host, port: port) == port,
                bindEphemeral(type: Int32(SOCK_DGRAM.rawValue), host: host, port: port) == port
            {
                return port
            }
        }
        return kernelPicked(host: host)
    }

    /// The kernel's choice, from the ephemeral range (when no block could be had).
    private static func kernelPicked(host: String) -> Int {
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

/// This process's block of ports outside the kernel's ephemeral range (see `FreePort`).
// @unchecked: `offset` is only touched under `lock`; the rest is immutable.
final class PortBlock: @unchecked Sendable {
    static let size = 400
    /// Where the lock files live: shared by every test process on the machine.
    static let lockDirectory = "/tmp/onebz-test-ports"

    static let shared: PortBlock? = claim()

    let first: Int
    private let lock = NSLock()
    private var offset = 0

    private init(first: Int) { self.first = first }

    func nextCandidate() -> Int {
        lock.lock()
        defer { lock.unlock() }
        let port = first + offset
        offset = (offset + 1) % Self.size
        return port
    }

    /// Ports the kernel never hands out as source ports: below the ephemeral range (or
    /// above it), from 10000 on to stay clear of well-known and registered services.
    static func usableRange() -> Range<Int>? {
        var low = 32768, high = 60999
        if let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8) {
            let fields = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
            if fields.count == 2 { (low, high) = (fields[0], fields[1]) }
        }
        let below = 10000..<max(10000, low)
        let above = max(10000, high + 1)..<65536
        let range = below.count >= above.count ? below : above
        return range.count >= size ? range : nil
    }

    /// Takes the first block whose lock file no other live process holds; the descriptor
    /// stays open (the lock goes with the process).
    static func claim() -> PortBlock? {
        guard let range = usableRange() else { return nil }
        try? FileManager.default.createDirectory(atPath: lockDirectory, withIntermediateDirectories: true)
        let blocks = range.count / size
        // Start at a block that depends on the pid, so processes rarely contend.
        let start = Int(getpid()) % blocks
        for step in 0..<blocks {
            let index = (start + step) % blocks
            let fd = open("\(lockDirectory)/block-\(index).lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o666)
            guard fd >= 0 else { continue }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return PortBlock(first: range.lowerBound + index * size) }
            close(fd)
        }
        return nil
    }
}
