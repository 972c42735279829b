#!/usr/bin/env python3
"""Opens N DNS-over-TLS connections to HOST:PORT (full handshakes, ALPN "dot", no
certificate check: a benchmark, not a client), prints `ready N SECONDS` (the time the
handshakes took, one at a time) and holds them idle until stdin closes. Used by
scripts/bench for the memory per idle TLS connection and UDP with them open."""
import socket
import ssl
import sys
import time


def main() -> int:
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["dot"])
    held = []
    start = time.monotonic()
    for _ in range(count):
        raw = socket.create_connection((host, port), timeout=10)
        held.append(context.wrap_socket(raw, server_hostname="ns1.1bz"))
    print("ready %d %.3f" % (len(held), time.monotonic() - start), flush=True)
    sys.stdin.read()
    for connection in held:
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
