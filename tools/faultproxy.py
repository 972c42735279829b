#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for robustness tests (a fake, named as such).

It forwards every HTTP request on --listen to --target (a JSON-RPC endpoint such as
the devnet, or the onebz registry) and can break the answer on demand. The fault is
read from the --control file (JSON) on every request, so a test switches faults at
runtime by rewriting that file:

    {"mode": "pass"}                          forward unchanged (also: no file)
    {"mode": "hang", "delay": 30}             hold the request, then drop it (timeouts)
    {"mode": "reset"}                         close the connection without an answer
    {"mode": "http500"}                       HTTP 500 with a text body
    {"mode": "rpc_error"}                     a JSON-RPC error object (-32000)
    {"mode": "malformed"}                     HTTP 200 with a truncated JSON body
    {"mode": "short_result"}                  forward, then cut a hex "result" in half
                                              (eth_call data of the wrong length)
    {"mode": "wrong_id"}                      forward, then answer with another id
    {"mode": "forge"}                         registry: forward, then change the
                                              record's addresses (signature no longer
                                              matches) and raise its trust to 100
  Well-formed chain lies (verified reads, docs/chain.md):
    {"mode": "rewrite_call"}                  eth_call: a 32-byte word result becomes
                                              another plausible hash (0x11..11)
    {"mode": "proof_other_block", "block": "0x1"}
                                              eth_getProof: answered for another block
                                              (a valid proof against the wrong root)
    {"mode": "forge_proof"}                   eth_getProof: the storage values claim
                                              0x11..11 and one proof node is altered
    {"mode": "other_hash"}                    eth_getBlockByNumber: another hash and
                                              stateRoot for the same block
    {"mode": "forge_state_root"}              eth_getBlockByNumber: the true hash with
                                              another stateRoot (0x44..44)
    {"mode": "withhold", "head": 5}           pretend the chain ends at block "head":
                                              eth_blockNumber says so, later blocks are
                                              null, reads at them "header not found"

Optional keys restrict the fault: "methods": ["eth_call"] (JSON-RPC method names),
"paths": ["/v1/nodes"] (URL path prefixes). Requests that do not match are forwarded.
JSON-RPC batches (a JSON array of calls) are forwarded as one request; the lies above
apply to each call of a batch that matches, and "rpc_error" answers each call with an
error.

Counts go to --stats (JSON): "http_requests" (HTTP requests), "batch" (batches among
them), the JSON-RPC methods (each call of a batch counts) or paths seen, and
"fault:<mode>" per injected fault. Only loopback addresses are accepted.
"""
import argparse
import http.client
import http.server
import json
import os
import signal
import socket
import sys
import threading
import time


def parse_address(text):
    host, _, port = text.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"faultproxy: {text}: only loopback addresses are allowed")
    return host, int(port)


class Stats:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.counts = {}
        self.write()

    def add(self, key):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            self.write()

    def write(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.counts, f)
        os.replace(tmp, self.path)


def load_control(path):
    if not path:
        return {"mode": "pass"}
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"mode": "pass"}


def make_handler(target, control_path, stats):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.handle_any()

        def do_POST(self):
            self.handle_any()

        def do_PUT(self):
            self.handle_any()

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            calls = []  # the JSON-RPC calls of the request (several for a batch)
            batch = False
            if body:
                try:
                    request = json.loads(body)
                    if isinstance(request, dict):
                        calls = [request]
                    elif isinstance(request, list):
                        calls, batch = [c for c in request if isinstance(c, dict)], True
                except ValueError:
                    pass
            stats.add("http_requests")
            if batch:
                stats.add("batch")
            for call in calls:
                stats.add(call.get("method") or "?")
            if not calls:
                stats.add(self.path.split("?")[0])
            control = load_control(control_path)
            mode = control.get("mode", "pass")
            matching = [c for c in calls if self.matches(control, c.get("method"))]
            if mode != "pass" and not (matching or (not calls and self.matches(control, None))):
                mode = "pass"
            if mode != "pass":
                stats.add("fault:" + mode)
                names = ",".join(c.get("method") or "?" for c in matching) or self.path
                sys.stderr.write(f"faultproxy: {mode} for {names}\n")
            self.inject(mode, control, body, calls, batch)

        def matches(self, control, method):
            methods, paths = control.get("methods"), control.get("paths")
            if methods is None and paths is None:
                return True
            if methods is not None and method in methods:
                return True
            return paths is not None and any(self.path.startswith(p) for p in paths)

        def inject(self, mode, control, body, calls, batch):
            if mode == "hang":
                time.sleep(float(control.get("delay", 30)))
                self.close_connection = True
                return
            if mode == "reset":
                self.close_connection = True
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                except OSError:
                    pass
                return
            if mode == "http500":
                return self.reply(500, b"internal server error (injected)", "text/plain")
            if mode == "rpc_error":
                errors = [{"jsonrpc": "2.0", "id": c.get("id"), "error": {"code": -32000, "message": "injected fault"}}
                          for c in (calls or [{}])]
                return self.reply(200, json.dumps(errors if batch else errors[0]).encode())
            if mode == "malformed":
                return self.reply(200, b'{"jsonrpc": "2.0", "id": 1, "result": "0x00')
            if not calls:  # not JSON-RPC (the registry)
                status, content_type, answer = self.forward(body)
                if mode == "forge" and status == 200:
                    answer = self.forge(answer)
                return self.reply(status, answer, content_type)
            # JSON-RPC: a call beyond a withheld head gets a canned answer; the rest is
            # forwarded (rewritten for proof_other_block), then each answer may be a lie.
            canned = {}
            if mode == "withhold":
                for c in calls:
                    answer = self.withheld(control, c)
                    if answer is not None:
                        canned[id(c)] = answer
            forwarded = [c for c in calls if id(c) not in canned]
            if mode == "proof_other_block":
                forwarded = [self.other_block(control, c) if self.matches(control, c.get("method")) else c
                             for c in forwarded]
            answers = {}
            status, content_type = 200, "application/json"
            if forwarded:
                payload = forwarded if batch else forwarded[0]
                status, content_type, raw = self.forward(json.dumps(payload).encode())
                try:
                    decoded = json.loads(raw)
                except ValueError:
                    return self.reply(status, raw, content_type)
                for answer in (decoded if isinstance(decoded, list) else [decoded]):
                    if isinstance(answer, dict):
                        answers[json.dumps(answer.get("id"))] = answer
            out = []
            for c in calls:
                answer = canned.get(id(c)) or answers.get(json.dumps(c.get("id")))
                if answer is None:
                    continue
                if self.matches(control, c.get("method")):
                    if mode in ("rewrite_call", "forge_proof", "other_hash", "forge_state_root", "withhold"):
                        answer = self.lie(mode, control, answer, c)
                    elif mode in ("short_result", "wrong_id"):
                        answer = self.rewrite_rpc(mode, answer)
                out.append(answer)
            self.reply(status, json.dumps(out if batch else (out[0] if out else {})).encode(), content_type)

        def forward(self, body):
            connection = http.client.HTTPConnection(*target, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "content-length")}
                connection.request(self.command, self.path, body=body or None, headers=headers)
                response = connection.getresponse()
                return response.status, response.getheader("Content-Type", "application/json"), response.read()
            finally:
                connection.close()

        @staticmethod
        def rewrite_rpc(mode, decoded):
            if mode == "wrong_id":
                decoded["id"] = 987654321
            elif isinstance(decoded.get("result"), str) and decoded["result"].startswith("0x"):
                hexdata = decoded["result"][2:]
                decoded["result"] = "0x" + hexdata[: (len(hexdata) // 4) * 2]
            return decoded

        @staticmethod
        def other_block(control, call):
            call = dict(call)
            if call.get("method") == "eth_getProof" and len(call.get("params", [])) > 2:
                call["params"] = list(call["params"])
                call["params"][2] = control.get("block", "0x1")
            return call

        @staticmethod
        def withheld(control, call):
            """The canned answer for a call beyond the pretended head, else None."""
            head = int(control.get("head", 0))
            method, params = call.get("method"), call.get("params", [])
            answer = {"jsonrpc": "2.0", "id": call.get("id")}
            block = None
            if method == "eth_getBlockByNumber" and params:
                block = params[0]
            elif method in ("eth_call", "eth_getProof") and params:
                block = params[-1]
                if isinstance(block, dict):
                    block = block.get("blockNumber")
            if isinstance(block, str) and block.startswith("0x") and int(block, 16) > head:
                if method == "eth_getBlockByNumber":
                    answer["result"] = None
                else:
                    answer["error"] = {"code": -32000, "message": "header not found"}
                return answer
            return None

        @staticmethod
        def lie(mode, control, decoded, call):
            result = decoded.get("result")
            if mode == "rewrite_call" and isinstance(result, str) and len(result) == 66:
                decoded["result"] = "0x" + "11" * 32
            elif mode == "forge_proof" and isinstance(result, dict):
                for entry in result.get("storageProof", []):
                    entry["value"] = "0x" + "11" * 32
                    if entry["proof"]:
                        last = entry["proof"][-1]
                        entry["proof"][-1] = last[:-2] + ("00" if last[-2:] != "00" else "01")
            elif mode == "other_hash" and isinstance(result, dict) and "hash" in result:
                result["hash"] = "0x" + "22" * 32
                result["stateRoot"] = "0x" + "33" * 32
            elif mode == "forge_state_root" and isinstance(result, dict) and "stateRoot" in result:
                result["stateRoot"] = "0x" + "44" * 32
            elif mode == "withhold" and call.get("method") == "eth_blockNumber" and isinstance(result, str):
                head = int(control.get("head", 0))
                if int(result, 16) > head:
                    decoded["result"] = hex(head)
            return decoded

        @staticmethod
        def forge(answer):
            try:
                entry = json.loads(answer)
            except ValueError:
                return answer
            # The entry is flat: the signed record's keys plus the registry's own.
            if isinstance(entry, dict) and "ipv4" in entry:
                entry["ipv4"] = ["203.0.113.66"]
                entry["ipv6"] = []
                entry["trust"] = 100
            return json.dumps(entry).encode()

        def reply(self, status, body, content_type="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", required=True, help="HOST:PORT (loopback)")
    p.add_argument("--target", required=True, help="HOST:PORT (loopback)")
    p.add_argument("--control", help="JSON file naming the fault to inject (re-read per request)")
    p.add_argument("--stats", help="file to write request counts to (JSON)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = http.server.ThreadingHTTPServer(parse_address(args.listen), make_handler(
        parse_address(args.target), args.control, Stats(args.stats)))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
