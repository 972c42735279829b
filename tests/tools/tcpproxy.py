#!/usr/bin/env python3
"""A TCP forwarder for fault injection in tests (a fake, named as such: it never
answers anything itself). It relays every connection on --listen to --target and
counts JSON-RPC method names it sees going upstream (e.g. "eth_call"), writing the
counts as JSON to --stats after each change. Stopping it (SIGTERM) is an upstream
outage; starting it again on the same port is the recovery.

Only loopback addresses are accepted.
"""
import argparse
import json
import os
import re
import signal
import socket
import sys
import threading

METHOD = re.compile(rb'"method"\s*:\s*"([A-Za-z0-9_]+)"')


def parse_address(text):
    host, _, port = text.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        raise SystemExit(f"tcpproxy: {text}: only loopback addresses are allowed")
    return host.strip("[]"), int(port)


class Counter:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.counts = {}
        self.write()

    def add(self, methods):
        if not methods:
            return
        with self.lock:
            for m in methods:
                name = m.decode()
                self.counts[name] = self.counts.get(name, 0) + 1
            self.write()

    def write(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.counts, f)
        os.replace(tmp, self.path)


def pipe(src, dst, counter):
    tail = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if counter is not None:
                window = tail + data
                counter.add(METHOD.findall(window))
                # Keep a short tail so a method name split across reads is seen once
                # (drop what was already matched).
                last = window.rfind(b'"method"')
                tail = window[last:] if last >= 0 and not METHOD.search(window[last:]) else b""
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(listen, target, counter):
    server = socket.create_server(listen, reuse_port=False)
    while True:
        client, _ = server.accept()
        try:
            upstream = socket.create_connection(target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pipe, args=(client, upstream, counter), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client, None), daemon=True).start()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--listen", required=True, help="HOST:PORT (loopback)")
    p.add_argument("--target", required=True, help="HOST:PORT (loopback)")
    p.add_argument("--stats", help="file to write method counts to (JSON)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    serve(parse_address(args.listen), parse_address(args.target), Counter(args.stats))


if __name__ == "__main__":
    sys.exit(main())
