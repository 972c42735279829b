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

Provider behaviours (what real RPC providers do; `--profile NAME` presets them, a
"provider" object in the control file overrides the preset key by key; they apply
before any fault mode):
    "max_log_range": N, "range_error": {"code": C, "message": M}
                          eth_getLogs over more than N blocks answers that error
    "max_log_results": N, "results_error": {...}
                          eth_getLogs with more than N logs answers that error
    "rps": R, "burst": B, "rate_limit": "http429" | "rpc", "retry_after": S | null
                          more than R requests/s (token bucket): HTTP 429 (with
                          Retry-After S when given) or JSON-RPC -32005 "rate limit
                          exceeded"; counted as "limited"
    "max_batch": N        a batch of more than N calls: one -32600 error object
                          ("batch size too large, maximum batch size is N")
    "batches": false      every batch: -32600 "Batch requests are not supported"
    "lag": K              the endpoint is K blocks behind: eth_blockNumber and the
                          latest/finalized/safe tags say head-K, later blocks are null,
                          reads at them "header not found", eth_getLogs stops at head-K
                          (raise K at runtime: an endpoint going back after a restart)
    "slow_fraction": F, "slow_delay": S
                          a fraction F of requests waits S seconds first (p99 latency)
    "slow_log_range": N, "slow_log_delay": S
                          eth_getLogs over more than N blocks waits S seconds first (a
                          node scanning a busy stretch); counted as "slow_logs"
    "chain_id": N         eth_chainId answers N (an endpoint of another network)
Presets (--profile): "capped" (Bor-style range cap 50, 25 req/s, 429 with Retry-After,
batches of at most 10), "results" (Infura-style result cap 2, 10 req/s, JSON-RPC rate
limits, lag 1), "public" (range cap 20 "block range too large", 5 req/s, 429 without
Retry-After, no batches, lag 2, 5 % of requests 1.5 s slow).

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


PROFILES = {
    "capped": {
        "max_log_range": 50, "range_error": {"code": -32000, "message": "exceed maximum block range: 50"},
        "rps": 25, "burst": 25, "rate_limit": "http429", "retry_after": 1, "max_batch": 10,
    },
    "results": {
        "max_log_results": 2,
        "results_error": {"code": -32005, "message": "query returned more than 10000 results"},
        "rps": 10, "burst": 10, "rate_limit": "rpc", "lag": 1,
    },
    "public": {
        "max_log_range": 20, "range_error": {"code": -32000, "message": "block range too large"},
        "rps": 5, "burst": 5, "rate_limit": "http429", "retry_after": None, "batches": False, "lag": 2,
        "slow_fraction": 0.05, "slow_delay": 1.5,
    },
}


class Bucket:
    """Requests per second (token bucket), for the provider's rate limit."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tokens = None
        self.updated = time.monotonic()

    def take(self, rate, burst):
        with self.lock:
            now = time.monotonic()
            if self.tokens is None:
                self.tokens = burst
            self.tokens = min(burst, self.tokens + (now - self.updated) * rate)
            self.updated = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


def load_control(path):
    if not path:
        return {"mode": "pass"}
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"mode": "pass"}


def make_handler(target, control_path, stats, profile=None):
    bucket = Bucket()
    head_cache = {"at": 0.0, "head": 0}
    head_lock = threading.Lock()
    rng = __import__("random").Random(7)

    def real_head():
        with head_lock:
            if time.monotonic() - head_cache["at"] > 0.2:
                connection = http.client.HTTPConnection(*target, timeout=10)
                try:
                    connection.request("POST", "/", body=json.dumps(
                        {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}),
                        headers={"Content-Type": "application/json"})
                    head_cache["head"] = int(json.loads(connection.getresponse().read())["result"], 16)
                    head_cache["at"] = time.monotonic()
                finally:
                    connection.close()
            return head_cache["head"]

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
            provider = dict(PROFILES.get(profile or "", {}))
            provider.update(control.get("provider") or {})
            if calls and self.provider_refuses(provider, calls, batch):
                return
            mode = control.get("mode", "pass")
            if calls and mode == "pass" and int(provider.get("lag") or 0) > 0:
                # A lagging endpoint: withhold what is newer than head - lag.
                mode, control = "withhold", dict(control, head=max(0, real_head() - int(provider["lag"])))
                control.pop("methods", None)
                control.pop("paths", None)
            matching = [c for c in calls if self.matches(control, c.get("method"))]
            if mode != "pass" and not (matching or (not calls and self.matches(control, None))):
                mode = "pass"
            if mode != "pass":
                stats.add("fault:" + mode)
                names = ",".join(c.get("method") or "?" for c in matching) or self.path
                sys.stderr.write(f"faultproxy: {mode} for {names}\n")
            self.inject(mode, control, body, calls, batch, provider)

        def provider_refuses(self, provider, calls, batch):
            """Answers for the provider (rate limit, batch limit, slowness, a log range
            too large) and returns True; False to go on."""
            fraction = float(provider.get("slow_fraction") or 0)
            if fraction and rng.random() < fraction:
                stats.add("slow")
                time.sleep(float(provider.get("slow_delay", 1.5)))
            slow_span = provider.get("slow_log_range")
            if slow_span and any((self.log_span(c) or 0) > int(slow_span) for c in calls):
                stats.add("slow_logs")
                time.sleep(float(provider.get("slow_log_delay", 3)))
            rate = provider.get("rps")
            if rate and not bucket.take(float(rate), float(provider.get("burst") or rate)):
                stats.add("limited")
                if provider.get("rate_limit", "http429") == "rpc":
                    errors = [{"jsonrpc": "2.0", "id": c.get("id"),
                               "error": {"code": -32005, "message": "rate limit exceeded"}} for c in calls]
                    self.reply(200, json.dumps(errors if batch else errors[0]).encode())
                else:
                    headers = {}
                    if provider.get("retry_after") is not None:
                        headers["Retry-After"] = str(provider["retry_after"])
                    self.reply(429, b'{"jsonrpc":"2.0","id":null,"error":{"code":429,"message":"Too Many Requests"}}',
                               extra_headers=headers)
                return True
            if batch and (provider.get("batches") is False or
                          (provider.get("max_batch") and len(calls) > int(provider["max_batch"]))):
                stats.add("batch_refused")
                message = ("Batch requests are not supported" if provider.get("batches") is False else
                           "batch size too large, maximum batch size is %d" % int(provider["max_batch"]))
                self.reply(200, json.dumps({"jsonrpc": "2.0", "id": None,
                                            "error": {"code": -32600, "message": message}}).encode())
                return True
            if provider.get("chain_id") is not None and not batch and calls[0].get("method") == "eth_chainId":
                self.reply(200, json.dumps({"jsonrpc": "2.0", "id": calls[0].get("id"),
                                            "result": hex(int(provider["chain_id"]))}).encode())
                return True
            cap = provider.get("max_log_range")
            if cap:
                for c in calls:
                    span = self.log_span(c)
                    if span is not None and span > int(cap):
                        stats.add("range_refused")
                        error = provider.get("range_error") or {"code": -32005, "message": "block range too large"}
                        errors = [dict({"jsonrpc": "2.0", "id": x.get("id")},
                                       **({"error": error} if x is c else {"result": None})) for x in calls]
                        if batch:
                            # Only the refused call fails; the others are answered for real.
                            return self.answer_batch_with(calls, {id(c): errors[calls.index(c)]})
                        self.reply(200, json.dumps(errors[0]).encode())
                        return True
            return False

        def answer_batch_with(self, calls, canned):
            forwarded = [c for c in calls if id(c) not in canned]
            answers = {}
            if forwarded:
                _, _, raw = self.forward(json.dumps(forwarded).encode())
                for answer in json.loads(raw):
                    answers[json.dumps(answer.get("id"))] = answer
            out = [canned.get(id(c)) or answers.get(json.dumps(c.get("id"))) for c in calls]
            self.reply(200, json.dumps([a for a in out if a is not None]).encode())
            return True

        @staticmethod
        def log_span(call):
            if call.get("method") != "eth_getLogs" or not call.get("params"):
                return None
            f = call["params"][0] if isinstance(call["params"][0], dict) else {}
            try:
                return int(f.get("toBlock", "0x0"), 16) - int(f.get("fromBlock", "0x0"), 16) + 1
            except (TypeError, ValueError):
                return None

        def matches(self, control, method):
            methods, paths = control.get("methods"), control.get("paths")
            if methods is None and paths is None:
                return True
            if methods is not None and method in methods:
                return True
            return paths is not None and any(self.path.startswith(p) for p in paths)

        def inject(self, mode, control, body, calls, batch, provider=None):
            provider = provider or {}
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
            if mode == "withhold":
                forwarded = [self.below_head(control, c) for c in forwarded]
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
                cap = provider.get("max_log_results")
                if (cap and c.get("method") == "eth_getLogs" and isinstance(answer.get("result"), list)
                        and len(answer["result"]) > int(cap)):
                    stats.add("results_refused")
                    answer = {"jsonrpc": "2.0", "id": c.get("id"), "error": provider.get("results_error") or
                              {"code": -32005, "message": "query returned more than 10000 results"}}
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
        def below_head(control, call):
            """A lagging node's view: tags mean its head, eth_getLogs stops there."""
            head = int(control.get("head", 0))
            method, params = call.get("method"), list(call.get("params") or [])
            if method == "eth_getBlockByNumber" and params and params[0] in ("latest", "finalized", "safe"):
                params[0] = hex(head)
                return dict(call, params=params)
            if method == "eth_getLogs" and params and isinstance(params[0], dict):
                f = dict(params[0])
                try:
                    if int(f.get("toBlock", "0x0"), 16) > head:
                        f["toBlock"] = hex(head)
                    if int(f.get("fromBlock", "0x0"), 16) > head:
                        f["fromBlock"] = hex(head + 1)  # an empty range: no logs
                except (TypeError, ValueError):
                    pass
                return dict(call, params=[f] + params[1:])
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

        def reply(self, status, body, content_type="application/json", extra_headers=None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in (extra_headers or {}).items():
                self.send_header(name, value)
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
    p.add_argument("--profile", choices=sorted(PROFILES), help="provider behaviour preset (see above)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = http.server.ThreadingHTTPServer(parse_address(args.listen), make_handler(
        parse_address(args.target), args.control, Stats(args.stats), args.profile))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
