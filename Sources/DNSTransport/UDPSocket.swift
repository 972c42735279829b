import DNSEngine
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A bound UDP socket for the fast path: blocking, SO_REUSEPORT (never SO_REUSEADDR on
/// UDP: it would let another process steal the port), 1 MiB kernel buffers.
///
/// Its worker thread reads and writes `descriptor` directly; answers that finish later
/// (dynamic misses) go through `send(_:to:)`, which holds the lock so they never reach
/// a descriptor that `close()` has released (and the kernel may have reused).
final class UDPSocket: Sendable {
    let descriptor: Int32
    let localAddress: SocketAddress
    private let open = NIOLockedValueBox(true)

    init(binding address: SocketAddress, bufferBytes: Int32 = 1 << 20) throws {
        let family = address.protocol.rawValue
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError(call: "socket", code: errno) }
        do {
            try Self.set(fd, SOL_SOCKET, SO_REUSEPORT, 1)
            try Self.set(fd, SOL_SOCKET, SO_RCVBUF, bufferBytes)
            try Self.set(fd, SOL_SOCKET, SO_SNDBUF, bufferBytes)
            // A blocked receive wakes at least once a second (shutdown() normally wakes it at once).
            var timeout = timeval(tv_sec: 1, tv_usec: 0)
            guard setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                throw SystemCallError(call: "setsockopt(SO_RCVTIMEO)", code: errno)
            }
            let bound = address.withSockAddr { pointer, size in bind(fd, pointer, socklen_t(size)) }
            guard bound == 0 else { throw SystemCallError(call: "bind \(address)", code: errno) }
            localAddress = try Self.localAddress(fd, like: address)
        } catch {
            Glibc.close(fd)
            throw error
        }
        descriptor = fd
    }

    /// Sends one datagram (the later answers of dynamic misses); dropped once closed.
    func send(_ datagram: ByteBuffer, to client: UDPClientAddress) {
        open.withLockedValue { open in
            guard open else { return }
            datagram.withUnsafeReadableBytes { bytes in
                client.withSockAddr { address, length in
                    _ = sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), address, length)
                }
            }
        }
    }

    /// Wakes a thread blocked in a receive on this socket (it then sees 0 datagrams).
    func wakeReaders() {
        _ = shutdown(descriptor, Int32(SHUT_RD))
    }

    /// Releases the descriptor; call after the worker thread has stopped.
    func close() {
        open.withLockedValue { open in
            guard open else { return }
            open = false
            Glibc.close(descriptor)
        }
    }

    private static func set(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws {
        var value = value
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SystemCallError(call: "setsockopt(\(name))", code: errno)
        }
    }

    /// The bound address (the kernel's port when `address` asked for port 0).
    private static func localAddress(_ fd: Int32, like address: SocketAddress) throws -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw SystemCallError(call: "getsockname", code: errno) }
        guard let local = UDPClientAddress(storage: storage, length: length).socketAddress else {
            throw SystemCallError(call: "getsockname", code: EAFNOSUPPORT)
        }
        return local
    }
}

extension ClientAddress {
    /// The IP of a `sockaddr_in` or `sockaddr_in6` (nil for other families).
    init?(sockaddr pointer: UnsafeRawPointer) {
        switch Int32(pointer.load(as: sa_family_t.self)) {
        case AF_INET:
            var address = pointer.load(as: sockaddr_in.self).sin_addr
            guard let made = withUnsafeBytes(of: &address, { ClientAddress(bytes: $0) }) else { return nil }
            self = made
        case AF_INET6:
            var address = pointer.load(as: sockaddr_in6.self).sin6_addr
            guard let made = withUnsafeBytes(of: &address, { ClientAddress(bytes: $0) }) else { return nil }
            self = made
        default:
            return nil
        }
    }
}

/// A datagram's source address as the kernel gave it (copied out of a receive slot).
struct UDPClientAddress: Sendable {
    private var storage: sockaddr_storage
    private let length: socklen_t

    init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    init(_ pointer: UnsafeRawPointer, length: socklen_t) {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) {
            $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: min(Int(length), $0.count)))
        }
        self.init(storage: storage, length: length)
    }

    func withSockAddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        withUnsafePointer(to: storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// As NIO's SocketAddress, without a host string (no reverse formatting work).
    var socketAddress: SocketAddress? {
        withUnsafePointer(to: storage) { pointer -> SocketAddress? in
            switch Int32(pointer.pointee.ss_family) {
            case AF_INET:
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    SocketAddress($0.pointee, host: "")
                }
            case AF_INET6:
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    SocketAddress($0.pointee, host: "")
                }
            default:
                return nil
            }
        }
    }
}
