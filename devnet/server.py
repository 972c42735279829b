"""HTTP transport for the dispatcher: keep-alive HTTP/1.1, one thread per connection,
TCP_NODELAY (without it every answer waits ~40 ms on Nagle + delayed ACK)."""
import json
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 8 * 1024 * 1024


class RPCServer(ThreadingHTTPServer):
    daemon_threads = True
    # SO_REUSEADDR, as every server sets it: a restart binds beside the last run's
    # TIME_WAIT sockets (scripts/demo stopped and started again at once). On Linux it
    # never lets two listeners share a port (SO_REUSEPORT would; keep that off, so a
    # second devnet on a taken port still fails).
    allow_reuse_address = True
    allow_reuse_port = False

    def __init__(self, address, dispatcher):
        self.dispatcher = dispatcher
        super().__init__(address, RPCHandler)

    def server_bind(self):
        super().server_bind()
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class RPCHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "1bz-devnet"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):  # quiet: one line per call would drown the logs
        pass

    def do_GET(self):
        self._send(405, {"jsonrpc": "2.0", "id": None,
                         "error": {"code": -32600, "message": "use POST with a JSON-RPC body"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self._send(413, {"jsonrpc": "2.0", "id": None,
                             "error": {"code": -32600, "message": "request body too large"}})
            return
        body = self.rfile.read(length)
        try:
            request = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            self._send(200, {"jsonrpc": "2.0", "id": None,
                             "error": {"code": -32700, "message": "parse error: %s" % e}})
            return
        response = self.server.dispatcher.handle(request)
        if response is None:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(200, response)

    def _send(self, status, obj):
        payload = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
