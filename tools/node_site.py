#!/usr/bin/env python3
"""A node's web site for tests and the demo: HTTPS (or plain HTTP) on loopback with the
certificate `onebz cert` made from the node's Ed25519 key. Standard library only.

  GET /           an HTML page naming the node (`--label`)
  GET /echo       JSON: the method, path and request headers as received (what a gateway sent)
  GET /redirect   302 to /elsewhere (a gateway must pass it on, not follow it)
  GET /redirect-node  302 to https://LABEL.1bz/elsewhere (a gateway rewrites it to itself)
  GET /silent     accepts, then never answers (a gateway must cut it)
  GET /ws         a WebSocket (RFC 6455) that answers each text message with "LABEL: " and
                  the message; the first message it sends names the request's X-Forwarded-For
  POST /echo      as GET, plus the body's length
  HEAD            as GET, without the body

  node_site.py --listen 127.0.0.1:8443 --cert DIR/cert.pem --key DIR/key.pem --label shashi

With --node-id the page also names the node id (what a browser test checks it reached)
and, when a gateway sent X-Forwarded-Host, the name the browser asked for.
"""
import argparse
import base64
import hashlib
import html
import http.server
import json
import ssl
import threading
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--cert", help="PEM certificate (omit for plain HTTP)")
    parser.add_argument("--key", help="PEM private key")
    parser.add_argument("--label", default="node")
    parser.add_argument("--node-id", help="the node id (hex) to show on the page")
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    label = args.label
    page = "<!doctype html><title>%s</title><h1>Hello from %s</h1>\n" % (label, label)
    if args.node_id:
        page += ("<p>This page is served by the node <code id=\"node-id\">%s</code>, over TLS with the key "
                 "its 1bz name publishes.</p>\n" % args.node_id)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            # The client's port too: which requests shared a connection.
            print("%s:%d %s" % (self.client_address[0], self.client_address[1], fmt % a), flush=True)

        def send(self, status, body, content_type, extra=None):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Node-Label", label)
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def echo(self, body_length):
            headers = [[name, value] for name, value in self.headers.items()]
            self.send(200, json.dumps({"label": label, "method": self.command, "path": self.path,
                                       "headers": headers, "body_length": body_length}),
                      "application/json",
                      # Hop-by-hop headers a gateway must not pass to the browser.
                      {"Keep-Alive": "timeout=5", "Connection": "close, X-Node-Private", "X-Node-Private": "1"})

        def websocket(self):
            # RFC 6455 4.2.2: the accept key; then unfragmented frames, client frames masked.
            key = self.headers.get("Sec-WebSocket-Key", "")
            accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept.decode())
            self.end_headers()
            self.wfile.flush()

            def send(opcode, payload):
                header = bytes([0x80 | opcode])
                n = len(payload)
                header += bytes([n]) if n < 126 else bytes([126]) + n.to_bytes(2, "big") if n < 65536 \
                    else bytes([127]) + n.to_bytes(8, "big")
                self.wfile.write(header + payload)
                self.wfile.flush()

            send(1, ("hello from %s, X-Forwarded-For %s" % (label, self.headers.get("X-Forwarded-For"))).encode())
            while True:
                head = self.rfile.read(2)
                if len(head) < 2:
                    return
                opcode, n = head[0] & 0x0F, head[1] & 0x7F
                if n == 126:
                    n = int.from_bytes(self.rfile.read(2), "big")
                elif n == 127:
                    n = int.from_bytes(self.rfile.read(8), "big")
                mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(n)))
                if opcode == 8:
                    send(8, payload[:2])
                    return
                if opcode == 1:
                    send(1, ("%s: " % label).encode() + payload)

        def do_GET(self):
            if self.path == "/ws" and "websocket" in self.headers.get("Upgrade", "").lower():
                self.websocket()
                self.close_connection = True
            elif self.path.startswith("/echo"):
                self.echo(0)
            elif self.path == "/redirect":
                self.send(302, "moved\n", "text/plain", {"Location": "/elsewhere"})
            elif self.path == "/redirect-node":
                self.send(302, "moved\n", "text/plain", {"Location": "https://%s.1bz/elsewhere" % label})
            elif self.path == "/silent":
                time.sleep(3600)
            else:
                self.send(200, page + self.forwarded_note(), "text/html; charset=utf-8")

        def forwarded_note(self):
            host = self.headers.get("X-Forwarded-Host")
            if not args.node_id or not host:
                return ""
            return ("<p>Reached through a gateway as <code id=\"forwarded-host\">%s</code> for the client %s.</p>\n"
                    % (html.escape(host), html.escape(self.headers.get("X-Forwarded-For", "?"))))

        def do_HEAD(self):
            self.do_GET()

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(length)
            self.echo(length)

    server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("listening on %s" % args.listen, flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
