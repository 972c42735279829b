import Foundation
import Hummingbird
import Metrics
import NIOCore
import NIOHTTP1
import NIOTLS
import Prometheus

/// Hummingbird's request context plus the client's address (for X-Forwarded-For).
struct WebRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    /// For the access log: an HTTP/2 request arrives on a stream channel, whose parent is
    /// the connection; an HTTP/1 request on the connection, whose parent is the listener.
    let httpVersion: String
    /// The browser connection's loop: the node connection is taken or made on it.
    let eventLoop: any EventLoop

    init(source: ApplicationRequestContextSource) {
        eventLoop = source.channel.eventLoop
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress ?? source.channel.parent?.remoteAddress
        httpVersion = source.channel.parent?.parent == nil ? "HTTP/1.1" : "HTTP/2.0"
    }
}

/// Marks HTTP/1 requests whose target is not origin-form (`GET http://other/ HTTP/1.1`):
/// Hummingbird keeps only the path of such a target, so the check must see the raw
/// request line. The responder answers a marked request 400.
final class AbsoluteFormMarker: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    static let header = "Onebz-Web-Absolute-Form"

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        head.headers.remove(name: Self.header)
        if !head.uri.hasPrefix("/") && !(head.method == .OPTIONS && head.uri == "*") {
            head.headers.add(name: Self.header, value: "1")
            head.uri = "/"
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// After the HTTP/1 request decoder, when there is one (HTTP/2 needs none: its
    /// `:path` is never absolute).
    static func install(_ channel: any Channel) throws {
        guard let decoder = try? channel.pipeline.syncOperations.context(
            handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
        else { return }
        try channel.pipeline.syncOperations.addHandler(AbsoluteFormMarker(), position: .after(decoder.handler))
    }

    /// With TLS, before the ALPN handler: once the handshake event has passed it (ALPN then
    /// has set up HTTP/1 or HTTP/2, synchronously), runs `install` (the marker and what else
    /// goes after the HTTP/1 decoder) and leaves.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        let install: @Sendable (any Channel) throws -> Void

        init(install: @escaping @Sendable (any Channel) throws -> Void) {
            self.install = install
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            guard case .handshakeCompleted? = event as? TLSUserEvent else {
                context.fireUserInboundEventTriggered(event)
                return
            }
            context.fireUserInboundEventTriggered(event)
            do { try install(context.channel) } catch { context.fireErrorCaught(error) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}

/// The gateway: `Host: NAME.<domain>` -> `NAME.1bz`, resolved and validated, then the
/// request passed to the node over TLS checked against the TLSA. Everything else is a page
/// that says why not.
struct GatewayResponder: HTTPResponder {
    typealias Context = WebRequestContext

    let configuration: WebConfiguration
    let directory: NodeDirectory
    let connector: NodeConnector
    let policy: AddressPolicy
    let accessLog: AccessLog
    let registry: PrometheusCollectorRegistry
    /// `https` when the gateway's listener has TLS.
    let scheme: String

    /// Hop-by-hop headers (RFC 9110 7.6.1) and the proxy's own: never passed either way.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection",
        "proxy-authenticate", "proxy-authorization", "http2-settings",
    ]
    /// Set by the gateway; the client's values are dropped, never trusted.
    static let forwarding: Set<String> = ["x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "forwarded", "x-real-ip"]

    func respond(to request: Request, context: WebRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        let client = Self.clientAddress(context.remoteAddress)
        let (response, outcome, streamed) = await route(request, client: client, on: context.eventLoop)
        let target = request.head.path ?? "/"
        let entry = AccessLog.Entry(
            client: client, method: request.method.rawValue, target: target, version: context.httpVersion,
            status: response.status.code, bytes: 0,
            referer: request.headers[.referer], userAgent: request.headers[.userAgent])
        let status = "\(response.status.code)"
        let record: @Sendable (Int) -> Void = { [accessLog] bytes in
            var entry = entry
            entry.bytes = bytes
            accessLog.write(entry)
            Counter(label: "onebz_web_requests_total", dimensions: [("outcome", outcome), ("status", status)]).increment()
            let elapsed = ContinuousClock.now - started
            Timer(label: "onebz_web_request_duration_seconds", dimensions: [("outcome", outcome)])
                .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        }
        guard streamed else {
            // A whole buffer (a page, a small node response): logged now, and left as a buffer
            // so Hummingbird writes head, body and end at once.
            record(request.method == .head ? 0 : response.body.contentLength ?? 0)
            return response
        }
        return Self.counting(response, then: record)
    }

    /// A response, the outcome for the metrics, and whether its body is a stream from a node.
    typealias Routed = (response: Response, outcome: String, streamed: Bool)

    /// The response with its body counted; `done` runs once the body is written.
    static func counting(_ response: Response, then done: @escaping @Sendable (Int) -> Void) -> Response {
        var response = response
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            let count = CountingWriter.Box()
            do {
                try await body.write(CountingWriter(base: writer, count: count))
            } catch {
                done(count.value)
                throw error
            }
            done(count.value)
        }
        return response
    }

    private func route(_ request: Request, client: String, on eventLoop: any EventLoop) async -> Routed {
        if request.headers[HeaderField.Name(AbsoluteFormMarker.header)!] != nil {
            return (
                Page.make(
                    .badRequest, reason: "absolute-form", title: "Not a proxy",
                    detail: "This gateway takes only requests for its own names (origin-form targets such as /path)."),
                "refused", false
            )
        }
        let host = Self.host(request.head.authority ?? "")
        var headerBytes = 0
        for field in request.headers { headerBytes += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        switch await destination(host: host, headerBytes: headerBytes) {
        case .gateway: return (ownPage(request), "gateway", false)
        case .refused(let page, let outcome): return (page, outcome, false)
        case .node(let site, let address, let verified):
            return await proxy(
                request, to: site, address: address, verified: verified, client: client, host: host, on: eventLoop)
        }
    }

    /// Where a request for `host` goes.
    enum Destination {
        /// The gateway's own pages (`Host: <domain>`).
        case gateway
        /// A page saying why not, and the outcome for the metrics.
        case refused(Response, outcome: String)
        /// The node's address to connect to; `verified`: with its TLSA digests (else plain HTTP).
        case node(NodeSite, address: String, verified: Bool)
    }

    /// The checks every request for a node passes, in order: Host under the domain, one
    /// valid label, header size, validated resolution, the address policy, a TLSA (or the
    /// operator's allowance of plain HTTP). Shared by proxied requests and WebSocket upgrades.
    func destination(host: String, headerBytes: Int) async -> Destination {
        let domain = configuration.domain
        if host == domain { return .gateway }
        guard host.hasSuffix("." + domain) else {
            return .refused(
                Page.make(
                    .misdirectedRequest, reason: "host-outside-domain", title: "Unknown host",
                    detail: "This gateway serves only names under \(domain)."),
                outcome: "refused")
        }
        let label = host.dropLast(domain.count + 1)
        guard !label.isEmpty, label.count <= 63, !label.contains("."),
            label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        else {
            return .refused(
                Page.make(
                    .notFound, reason: "bad-name", title: "Not a 1bz name",
                    detail: "\(host) does not name a 1bz node: use NAME.\(domain) for NAME.1bz."),
                outcome: "refused")
        }
        let name = "\(label).1bz"
        if headerBytes > configuration.maxHeaderBytes {
            return .refused(
                Page.make(
                    .init(code: 431, reasonPhrase: "Request Header Fields Too Large"), reason: "headers-too-large",
                    title: "Request headers too large", detail: "At most \(configuration.maxHeaderBytes) bytes of headers."),
                outcome: "refused")
        }
        switch await directory.resolve(name) {
        case .notFound:
            return .refused(
                Page.make(.notFound, reason: "no-such-name", title: "No such node", detail: "\(name) is not registered."),
                outcome: "not_found")
        case .unvalidated(let why):
            return .refused(
                Page.make(
                    .badGateway, reason: "dnssec",
                    title: "The DNS answers for \(name) did not validate",
                    detail: "The gateway trusts only DNSSEC-validated answers from the 1bz zone, and these failed: \(why)."),
                outcome: "dnssec")
        case .unavailable(let why):
            return .refused(
                Page.make(
                    .serviceUnavailable, reason: "resolver", title: "Cannot resolve \(name) now",
                    detail: "The 1bz name server did not answer (\(why)). Try again later."),
                outcome: "resolver")
        case .site(let site):
            return reachable(site)
        }
    }

    private func reachable(_ site: NodeSite) -> Destination {
        guard !site.addresses.isEmpty else {
            return .refused(
                Page.make(
                    .badGateway, reason: "no-address", title: "\(site.name) has no address",
                    detail: "The node publishes no IPv4 or IPv6 address."),
                outcome: "refused")
        }
        let refusals = site.addresses.map { ($0, policy.refusal($0)) }
        guard let address = refusals.first(where: { $0.1 == nil })?.0 else {
            let (first, why) = refusals[0]
            return .refused(
                Page.make(
                    .forbidden, reason: "address-refused", title: "\(site.name) points where this gateway does not go",
                    detail: "The node's address \(first) is \(why ?? "refused"); this gateway does not connect there."),
                outcome: "refused")
        }
        let verified = !site.spkiSHA256.isEmpty
        guard verified || configuration.allowPlainHTTPNodes else {
            return .refused(
                Page.make(
                    .badGateway, reason: "no-tlsa", title: "\(site.name) publishes no key for its web site",
                    detail: "The zone proves there is no TLSA record for \(site.name) (the node declares no HTTPS "
                        + "service), so the gateway cannot check whom it would talk to, and does not proxy."),
                outcome: "no_tlsa")
        }
        return .node(site, address: address, verified: verified)
    }

    private func ownPage(_ request: Request) -> Response {
        switch request.head.path {
        case "/metrics":
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        case "/healthz":
            Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        default:
            Page.make(
                .notFound, reason: "gateway", title: "onebz-web",
                detail: "Open NAME.\(configuration.domain) to reach the web site of the 1bz node NAME.1bz.")
        }
    }

    private func proxy(
        _ request: Request, to site: NodeSite, address: String, verified: Bool, client: String, host: String,
        on eventLoop: any EventLoop
    ) async -> Routed {
        // Body: whole, within the limit (Content-Length is checked before reading).
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxBodyBytes {
            return (tooLarge(), "refused", false)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch {
            return (tooLarge(), "refused", false)
        }
        let port = verified ? site.port : 80
        var head = nodeHead(
            method: request.method.rawValue, uri: request.head.path ?? "/",
            fields: request.headers.map { ($0.name.rawName, $0.value) }, site: site, verified: verified, client: client,
            host: Self.forwardedHost(request.head.authority ?? host))
        if body.readableBytes > 0 || request.headers[.contentLength] != nil {
            head.headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        }

        let node: NodeResponse
        do {
            node = try await connector.exchange(
                address: address, port: port, serverName: site.name, spkiSHA256: verified ? site.spkiSHA256 : nil,
                head: head, body: body, on: eventLoop)
        } catch {
            let (page, outcome) = failurePage(error, site: site, address: address, port: port)
            return (page, outcome, false)
        }
        // The domain as the browser reached it (with its port, if it gave one).
        let gatewayOrigin = configuration.domain + (Self.port(request.head.authority ?? "").map { ":\($0)" } ?? "")
        var headers = HTTPFields()
        let responseTokens = Set(
            node.head.headers["connection"].flatMap { $0.split(separator: ",") }.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            })
        var contentLength: Int?
        for (name, value) in node.head.headers {
            let lower = name.lowercased()
            if Self.hopByHop.contains(lower) || responseTokens.contains(lower) || lower.hasPrefix("proxy-") { continue }
            if lower == "content-length" {
                contentLength = Int(value)
                continue
            }
            guard let fieldName = HeaderField.Name(name) else { continue }
            let passed = lower == "location" ? Self.rewriteLocation(value, domain: gatewayOrigin, scheme: scheme) : value
            headers.append(HeaderField(name: fieldName, value: passed))
        }
        headers.append(HeaderField(name: HeaderField.Name("Onebz-Verification")!, value: verified ? "tlsa" : "unverified"))
        let status = HTTPResponse.Status(code: Int(node.head.status.code), reasonPhrase: node.head.status.reasonPhrase)
        let outcome = verified ? "proxied" : "proxied_unverified"
        let stream = node.body
        // A small body of known length is collected first: then head, body and end go to the
        // browser in one write instead of one each (most pages and API answers are small).
        if let contentLength, contentLength <= Self.bufferedBodyLimit, request.method != .head, status.code >= 200,
            status.code != 204, status.code != 304
        {
            var buffer = ByteBuffer()
            buffer.reserveCapacity(contentLength)
            do {
                for try await var part in stream { buffer.writeBuffer(&part) }
            } catch {
                let (page, outcome) = failurePage(error, site: site, address: address, port: port)
                return (page, outcome, false)
            }
            return (Response(status: status, headers: headers, body: .init(byteBuffer: buffer)), outcome, false)
        }
        let responseBody = ResponseBody(contentLength: contentLength) { writer in
            for try await part in stream { try await writer.write(part) }
            try await writer.finish(nil)
        }
        return (Response(status: status, headers: headers, body: responseBody), outcome, true)
    }

    /// Node response bodies up to this size (with a Content-Length) are collected whole.
    static let bufferedBodyLimit = 64 * 1024

    /// The request head for the node: the client's end-to-end headers (hop-by-hop ones, those
    /// `Connection` names, and any forwarding headers it sent, dropped), `Host: NAME.1bz`, and
    /// the gateway's forwarding headers (`host`: as the browser sent it, with its port). `upgrade`: a WebSocket upgrade, whose `Upgrade`
    /// header and `Connection: Upgrade` are kept (RFC 6455 4.1).
    func nodeHead(
        method: String, uri: String, fields: [(String, String)], site: NodeSite, verified: Bool, client: String, host: String,
        upgrade: Bool = false
    ) -> HTTPRequestHead {
        let port = verified ? site.port : 80
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: uri)
        let connectionTokens = Set(
            fields.filter { $0.0.lowercased() == "connection" }.flatMap { $0.1.split(separator: ",") }.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            })
        for (name, value) in fields {
            let lower = name.lowercased()
            if upgrade && lower == "upgrade" {
                head.headers.add(name: name, value: value)
                continue
            }
            if Self.hopByHop.contains(lower) || Self.forwarding.contains(lower) || connectionTokens.contains(lower)
                || lower == "host" || lower.hasPrefix("proxy-") || lower == AbsoluteFormMarker.header.lowercased()
            {
                continue
            }
            head.headers.add(name: name, value: value)
        }
        if upgrade { head.headers.add(name: "Connection", value: "Upgrade") }
        head.headers.add(name: "Host", value: port == (verified ? 443 : 80) ? site.name : "\(site.name):\(port)")
        head.headers.add(name: "X-Forwarded-For", value: client)
        head.headers.add(name: "X-Forwarded-Host", value: host)
        head.headers.add(name: "X-Forwarded-Proto", value: scheme)
        let forwardedFor = client.contains(":") ? "\"[\(client)]\"" : client
        head.headers.add(name: "Forwarded", value: "for=\(forwardedFor);host=\"\(host)\";proto=\(scheme)")
        return head
    }

    /// The page for a failed exchange with a node, and the outcome for the metrics.
    func failurePage(_ error: any Error, site: NodeSite, address: String, port: Int) -> (Response, String) {
        switch error {
        case NodeExchangeError.keyMismatch(let presented):
            return (
                Page.make(
                    .badGateway, reason: "key-mismatch", title: "This node's certificate does not match its registered key",
                    detail: "\(site.name) at \(address) presented a certificate whose key (SHA-256 of its "
                        + "SubjectPublicKeyInfo: \(presented)) is not the key the 1bz zone publishes for it (TLSA). "
                        + "The gateway sent nothing to it."),
                "key_mismatch"
            )
        case NodeExchangeError.timedOut:
            return (timedOut(site), "timeout")
        case NodeExchangeError.connectFailed(let why) where why.lowercased().contains("timed out") || why.contains("connectTimeout"):
            return (timedOut(site), "timeout")
        default:
            return (
                Page.make(
                    .badGateway, reason: "node-unreachable", title: "\(site.name) could not be reached",
                    detail: "The gateway could not get an answer from \(address) port \(port): \(error)."),
                "node_error"
            )
        }
    }

    private func tooLarge() -> Response {
        Page.make(
            .contentTooLarge, reason: "body-too-large", title: "Request body too large",
            detail: "At most \(configuration.maxBodyBytes) bytes.")
    }

    private func timedOut(_ site: NodeSite) -> Response {
        Page.make(
            .gatewayTimeout, reason: "node-timeout", title: "\(site.name) did not answer in time",
            detail: "The node accepted the connection but sent no answer within the gateway's time limit.")
    }

    /// A node's redirect to a 1bz name (`https://NAME.1bz/…`, `http://…`, any port) goes to
    /// the same name through this gateway (`SCHEME://NAME.<domain>/…`; `domain` may end in
    /// the gateway's `:PORT`), since a browser
    /// cannot open `.1bz` itself; any other Location passes unchanged. The redirect is the
    /// browser's to follow, never the gateway's.
    static func rewriteLocation(_ location: String, domain: String, scheme: String) -> String {
        let lower = location.lowercased()
        guard let schemeEnd = ["https://", "http://"].first(where: { lower.hasPrefix($0) })?.count else { return location }
        let rest = location.dropFirst(schemeEnd)
        let authorityEnd = rest.firstIndex(where: { "/?#".contains($0) }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.contains("@") else { return location }
        var host = Substring(authority.lowercased())
        if let colon = host.lastIndex(of: ":"), host[host.index(after: colon)...].allSatisfy(\.isNumber) { host = host[..<colon] }
        if host.hasSuffix(".") { host = host.dropLast() }
        guard host.hasSuffix(".1bz") else { return location }
        let label = host.dropLast(4)
        guard !label.isEmpty, !label.contains("."),
            label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        else { return location }
        return "\(scheme)://\(label).\(domain)\(rest[authorityEnd...])"
    }

    /// The Host a browser sent, for the node's `X-Forwarded-Host` and `Forwarded: host=`:
    /// `host(authority)` with the browser's port when it gave a numeric one (so a node that
    /// builds its own URLs sends the browser back to the port it came through).
    static func forwardedHost(_ authority: String) -> String {
        let host = host(authority)
        guard !host.hasPrefix("["), let port = port(authority) else { return host }
        return "\(host):\(port)"
    }

    /// The port a Host/authority names: 1 to 5 ASCII digits after the last colon, else nil.
    static func port(_ authority: String) -> Substring? {
        guard let colon = authority.lastIndex(of: ":") else { return nil }
        let port = authority[authority.index(after: colon)...]
        return !port.isEmpty && port.count <= 5 && port.allSatisfy(\.isASCII) && port.allSatisfy(\.isNumber) ? port : nil
    }

    /// Lower case, without port or trailing dot.
    static func host(_ authority: String) -> String {
        var host = Substring(authority.lowercased())
        if host.hasPrefix("[") { return String(host) }
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        if host.hasSuffix(".") { host = host.dropLast() }
        return String(host)
    }

    static func clientAddress(_ address: SocketAddress?) -> String {
        guard var ip = address?.ipAddress else { return "-" }
        if ip.hasPrefix("::ffff:"), ip.contains(".") { ip = String(ip.dropFirst(7)) }
        return ip
    }
}

/// A body writer that counts what passes.
struct CountingWriter: ResponseBodyWriter {
    var base: any ResponseBodyWriter
    let count: Box

    final class Box: @unchecked Sendable {
        // @unchecked: written and read by the one task that writes the body.
        var value = 0
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        count.value += buffer.readableBytes
        try await base.write(buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await base.finish(trailingHeaders)
    }
}
