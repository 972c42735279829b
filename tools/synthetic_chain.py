#!/usr/bin/env python3
"""SYNTHETIC chain for the scale rig (issue 23): a JSON-RPC endpoint that answers, for N
deterministic names (tools/scale_names.py), what a chain with the BizNodeRegistry and
BizNodeLookup contracts would answer in call mode. A fake, like tools/faultproxy.py: it
exists so that 1M registrations take seconds instead of days of devnet transactions.
devnet/tests/test_synthetic_chain.py shows that it answers byte for byte what the real
devnet answers for the same registrations (block numbers, hashes, transaction fields and
registeredAt, which depend on when a transaction was mined, masked).

Layout: genesis is block 0, the contracts are "deployed" in --deploy-block, names are
registered from the next block on, --per-block names a block, each name's events
(NodeRegistered, then NodeVerified, then StakeAdded, each its own transaction) together.
The head is --tail blocks after the last registration; with --block-time it grows by one
empty block every so many seconds. Every block is final (latest = safe = finalized).

Served: eth_chainId, net_version, eth_blockNumber, eth_getBlockByNumber (numbers and
tags; headers whose fields hash to their hash), eth_getLogs (address/topics/fromBlock/
toBlock filters; at most 1,000 blocks and 10,000 results, as providers cap them, code
-32005), eth_call (resolveDNS, dnsToNode, nodes, verificationFee, owner, lookup), batches.
GET /stats returns the requests counted per method. No eth_getProof: proof mode is
measured on the real devnet.

Registration at run time (the rig's "registration -> answer" row): the ADMIN method
`rig_registerName` (JSON-RPC, no params; not an Ethereum method) registers the next name,
N + 1, then N + 2, ..., each in a block of its own after the current head (the head moves
to it), with the same events and facts as the names registered at start
(tools/scale_names.py). Returns {"index", "name", "nodeHash", "block", "hasRecord"}.

    tools/synthetic_chain.py --names 1000000 --port 8545 [--hash-cache FILE]
"""
import argparse
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale_names as sn  # noqa: E402
from eth_hash.auto import keccak  # noqa: E402

CHAIN_ID = 131277322940537  # the devnet's (eth-tester's)
MAX_LOG_RANGE = 1000
MAX_LOG_RESULTS = 10_000
VERIFICATION_FEE = 10 * sn.ETHER
T0 = 1_700_000_000
EMPTY_LIST_HASH = keccak(bytes([0xC0]))
EMPTY_TRIE_ROOT = keccak(bytes([0x80]))


def selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


def topic(signature: str) -> bytes:
    return keccak(signature.encode())


SEL = {name: selector(name) for name in (
    "resolveDNS(string)", "dnsToNode(string)", "nodes(bytes32)", "verificationFee()", "owner()", "lookup(string)")}
TOPIC_REGISTERED = topic("NodeRegistered(bytes32,address,string)")
TOPIC_VERIFIED = topic("NodeVerified(bytes32)")
TOPIC_STAKE = topic("StakeAdded(bytes32,uint256)")


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def string_tail(data: bytes) -> bytes:
    return word(len(data)) + data + bytes((32 - len(data) % 32) % 32)


def quantity(value: int) -> str:
    return hex(value)


def rlp(item) -> bytes:
    if isinstance(item, list):
        body = b"".join(rlp(x) for x in item)
        return rlp_length(len(body), 0xC0) + body
    if isinstance(item, int):
        item = item.to_bytes((item.bit_length() + 7) // 8, "big") if item else b""
    if len(item) == 1 and item[0] < 0x80:
        return item
    return rlp_length(len(item), 0x80) + item


def rlp_length(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(raw)]) + raw


class RPCError(Exception):
    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


class SyntheticChain:
    def __init__(self, args):
        self.n = args.names  # grows with rig_registerName
        self.base_n = args.names  # the names of the start layout (per_block a block)
        self.late = {}  # name index -> block, for names registered at run time
        self.late_by_block = {}  # block -> name index
        self.seed = args.seed
        self.per_block = args.per_block
        self.deploy_block = args.deploy_block
        self.contract = args.contract
        self.lookup_address = args.lookup
        self.owner = args.owner
        self.wallets = [w for w in (args.wallets or "").split(",") if w]
        self.table = sn.HashTable(self.seed, self.n, args.hash_cache)
        self.last_registration_block = self.reg_block(self.n) if self.n else self.deploy_block  # grows too
        self.hashes = []
        self.lock = threading.Lock()
        self.admin_lock = threading.Lock()
        self.counts = {}
        self._extend(self.last_registration_block + args.tail)
        self.started = time.time()
        self.block_time = args.block_time

    # MARK: the model

    def reg_block(self, i: int) -> int:
        late = self.late.get(i)
        return late if late is not None else self.deploy_block + 1 + (i - 1) // self.per_block

    def register_next(self) -> dict:
        """rig_registerName: name n + 1 registered in a new block after the head."""
        with self.admin_lock:
            i = self.n + 1
            if i > 9_999_999:
                raise RPCError(-32000, "the rig's names stop at n9999999.1bz")
            node_hash = self.table.add(i)
            block = self.head() + 1
            # Facts first, the head last: a reader sees the new block only with its name.
            self.late[i] = block
            self.late_by_block[block] = i
            self.n = i
            self.last_registration_block = block
            with self.lock:
                self._extend(block)
                self.base_head += 1  # --block-time keeps growing from here
            return {"index": i, "name": sn.name(i), "nodeHash": "0x" + node_hash.hex(), "block": block,
                    "hasRecord": sn.has_record(i)}

    def wallet(self, i: int) -> bytes:
        if self.wallets:
            return bytes.fromhex(self.wallets[(i - 1) % len(self.wallets)][2:])
        return keccak(b"1bz-scale-wallet\x00%d" % i)[12:]

    def head(self) -> int:
        if self.block_time:
            grown = self.base_head + int((time.time() - self.started) / self.block_time)
            if grown >= len(self.hashes):
                with self.lock:
                    self._extend(grown)
        return len(self.hashes) - 1

    def _extend(self, head: int):
        if not self.hashes:
            self.base_head = head
        while len(self.hashes) <= head:
            number = len(self.hashes)
            parent = self.hashes[-1] if self.hashes else bytes(32)
            self.hashes.append(keccak(rlp(self._header_fields(number, parent))))

    def _header_fields(self, number: int, parent: bytes) -> list:
        # The Yellow Paper's 15 fields and London's baseFeePerGas.
        state_root = keccak(b"1bz-scale-state\x00%d" % number)
        return [parent, EMPTY_LIST_HASH, bytes(20), state_root, EMPTY_TRIE_ROOT, EMPTY_TRIE_ROOT, bytes(256), 0,
                number, 30_000_000, 0, T0 + 2 * number, b"", bytes(32), bytes(8), 7]

    def block_json(self, number: int) -> dict:
        f = self._header_fields(number, self.hashes[number - 1] if number else bytes(32))

        def data(b: bytes) -> str:
            return "0x" + b.hex()

        return {
            "number": quantity(number), "hash": data(self.hashes[number]), "parentHash": data(f[0]),
            "sha3Uncles": data(f[1]), "miner": data(f[2]), "stateRoot": data(f[3]),
            "transactionsRoot": data(f[4]), "receiptsRoot": data(f[5]), "logsBloom": data(f[6]),
            "difficulty": quantity(f[7]), "gasLimit": quantity(f[9]), "gasUsed": quantity(f[10]),
            "timestamp": quantity(f[11]), "extraData": "0x", "mixHash": data(f[13]), "nonce": data(f[14]),
            "baseFeePerGas": quantity(f[15]), "size": quantity(540), "uncles": [], "transactions": [],
        }

    def names_in_block(self, block: int) -> range:
        late = self.late_by_block.get(block)
        if late is not None:
            return range(late, late + 1)
        first = (block - self.deploy_block - 1) * self.per_block + 1
        if block <= self.deploy_block or first > self.base_n:
            return range(0)
        return range(first, min(self.base_n, first + self.per_block - 1) + 1)

    def events(self, i: int):
        """(topic0, data) of name i's events, in transaction order."""
        h = self.table.hash(i)
        out = [(TOPIC_REGISTERED, h,
                word(int.from_bytes(self.wallet(i), "big")) + word(64) + string_tail(sn.name(i).encode()))]
        if sn.verified(i):
            out.append((TOPIC_VERIFIED, h, b""))
        if sn.stake(i):
            out.append((TOPIC_STAKE, h, word(sn.stake(i))))
        return out

    # MARK: JSON-RPC

    def block_number(self, param, what="block") -> int:
        if isinstance(param, dict):
            if "blockHash" in param:
                try:
                    return self.hashes.index(bytes.fromhex(param["blockHash"][2:]))
                except ValueError:
                    raise RPCError(-32000, "header not found")
            param = param.get("blockNumber", "latest")
        if param in ("latest", "safe", "finalized", "pending"):
            return self.head()
        if param == "earliest":
            return 0
        number = parse_quantity(param, what)
        if number > self.head():
            raise RPCError(-32000, "header not found")
        return number

    def get_block_by_number(self, params):
        if not params:
            raise RPCError(-32602, "expected [block, fullTransactions]")
        param = params[0]
        if isinstance(param, str) and param.startswith("0x") and parse_quantity(param, "block") > self.head():
            return None
        return self.block_json(self.block_number(param))

    def get_logs(self, params):
        if not params or not isinstance(params[0], dict):
            raise RPCError(-32602, "expected [filter object]")
        f = params[0]
        if "blockHash" in f:
            start = end = self.block_number({"blockHash": f["blockHash"]})
        else:
            start = self.block_number(f.get("fromBlock", "latest"), "fromBlock")
            to_param = f.get("toBlock", "latest")
            end = parse_quantity(to_param, "toBlock") if isinstance(to_param, str) and to_param.startswith("0x") \
                else self.block_number(to_param, "toBlock")
        if start > end:
            raise RPCError(-32602, "fromBlock %d is after toBlock %d" % (start, end))
        if end - start + 1 > MAX_LOG_RANGE:
            raise RPCError(-32005, "block range too large: %d blocks requested (%d..%d), the limit is %d"
                           % (end - start + 1, start, end, MAX_LOG_RANGE), {"limit": MAX_LOG_RANGE})
        end = min(end, self.head())
        address = f.get("address")
        if address is not None:
            addresses = {a.lower() for a in (address if isinstance(address, list) else [address])}
            if self.contract.lower() not in addresses:
                return []
        wanted = [None, None]
        for k, t in enumerate((f.get("topics") or [])[:2]):
            if t is not None:
                wanted[k] = {bytes.fromhex(x[2:]) for x in (t if isinstance(t, list) else [t])}
        for t in (f.get("topics") or [])[2:]:
            if t is not None:
                return []  # our events have two topics
        logs = []
        first = max(start, self.deploy_block + 1)
        last = min(end, self.last_registration_block)
        for block in range(first, last + 1):
            block_hash = "0x" + self.hashes[block].hex()
            index = 0
            for i in self.names_in_block(block):
                for t0, t1, data in self.events(i):
                    if (wanted[0] is None or t0 in wanted[0]) and (wanted[1] is None or t1 in wanted[1]):
                        if len(logs) == MAX_LOG_RESULTS:
                            raise RPCError(-32005, "query returned more than %d results. Try with a smaller block range"
                                           % MAX_LOG_RESULTS)
                        tx = keccak(b"1bz-scale-tx\x00%d\x00%d" % (block, index))
                        logs.append({
                            "address": self.contract, "topics": ["0x" + t0.hex(), "0x" + t1.hex()],
                            "data": "0x" + data.hex(), "blockNumber": quantity(block), "blockHash": block_hash,
                            "transactionHash": "0x" + tx.hex(), "transactionIndex": quantity(index),
                            "logIndex": quantity(index), "removed": False,
                        })
                    index += 1
        return logs

    def call(self, params):
        if not params or not isinstance(params[0], dict):
            raise RPCError(-32602, "expected [transaction, block]")
        tx = params[0]
        block = self.block_number(params[1] if len(params) > 1 else "latest")
        to = (tx.get("to") or "").lower()
        data = bytes.fromhex((tx.get("data") or tx.get("input") or "0x")[2:])
        sel, args = data[:4], data[4:]
        if to == self.contract.lower():
            if sel in (SEL["resolveDNS(string)"], SEL["dnsToNode(string)"]):
                i = self.registered(sn.index_of_name(decode_string(args), self.n), block)
                return "0x" + (self.table.hash(i) if i else bytes(32)).hex()
            if sel == SEL["nodes(bytes32)"] and len(args) >= 32:
                return "0x" + self.node_words(self.registered(self.table.lookup(args[:32]), block)).hex()
            if sel == SEL["verificationFee()"]:
                return "0x" + word(VERIFICATION_FEE).hex()
            if sel == SEL["owner()"]:
                return "0x" + word(int(self.owner, 16)).hex()
            raise RPCError(-32000, "execution reverted")
        if self.lookup_address and to == self.lookup_address.lower():
            if sel == SEL["lookup(string)"]:
                i = self.registered(sn.index_of_name(decode_string(args), self.n), block)
                h = self.table.hash(i) if i else bytes(32)
                return "0x" + (h + self.node_words(i, offset=0xC0)).hex()
            raise RPCError(-32000, "execution reverted")
        return "0x"  # no code there

    def registered(self, i, block):
        return i if i and self.reg_block(i) <= block else None

    def node_words(self, i, offset=0xA0) -> bytes:
        """(address, string, bool, uint256, uint256) as the Vyper getter encodes it."""
        if not i:
            return word(0) + word(offset) + word(0) + word(0) + word(0) + word(0)
        return (word(int.from_bytes(self.wallet(i), "big")) + word(offset) + word(int(sn.verified(i)))
                + word(sn.stake(i)) + word(T0 + 2 * self.reg_block(i)) + string_tail(sn.name(i).encode()))

    METHODS = {
        "eth_chainId": lambda self, p: quantity(CHAIN_ID),
        "net_version": lambda self, p: str(CHAIN_ID),
        "eth_blockNumber": lambda self, p: quantity(self.head()),
        "eth_getBlockByNumber": get_block_by_number,
        "eth_getLogs": get_logs,
        "eth_call": call,
        "rig_registerName": lambda self, p: self.register_next(),
    }

    def handle(self, request):
        if isinstance(request, list):
            if not request:
                return error(None, RPCError(-32600, "invalid request: empty batch"))
            return [self.handle_one(r) for r in request]
        return self.handle_one(request)

    def handle_one(self, request):
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return error(None, RPCError(-32600, "invalid request"))
        method = request["method"]
        with self.lock:
            self.counts[method] = self.counts.get(method, 0) + 1
        fn = self.METHODS.get(method)
        try:
            if fn is None:
                raise RPCError(-32601, "the method %s does not exist/is not available" % method)
            params = request.get("params", [])
            if not isinstance(params, list):
                raise RPCError(-32602, "params must be an array")
            result = fn(self, params)
        except RPCError as e:
            return error(request.get("id"), e)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:  # hostile input
            return error(request.get("id"), RPCError(-32602, "invalid params: %s" % e))
        return {"jsonrpc": "2.0", "id": request.get("id"), "result": result}


def error(request_id, e: RPCError) -> dict:
    body = {"code": e.code, "message": e.message}
    if e.data is not None:
        body["data"] = e.data
    return {"jsonrpc": "2.0", "id": request_id, "error": body}


def parse_quantity(value, what: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) < 3:
        raise RPCError(-32602, "invalid %s: %r" % (what, value))
    return int(value, 16)


def decode_string(args: bytes) -> str:
    """The one `string` argument; a bound the Vyper port enforces (String[253]) reverts."""
    offset = int.from_bytes(args[:32], "big")
    length = int.from_bytes(args[offset:offset + 32], "big")
    if offset != 32 or length > 253 or len(args) < 64 + length:
        raise RPCError(-32000, "execution reverted")
    return args[64:64 + length].decode("utf-8", "replace")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle and the client's
        # delayed ACK add 40 ms to every answer (as the devnet's server says too).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        if self.path == "/stats":
            with self.server.chain.lock:
                self._send(dict(self.server.chain.counts))
        else:
            self.send_error(404)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = json.loads(self.rfile.read(length))
        except ValueError as e:
            self._send(error(None, RPCError(-32700, "parse error: %s" % e)))
            return
        self._send(self.server.chain.handle(request))

    def _send(self, obj):
        payload = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--names", type=int, required=True, help="N registered names")
    p.add_argument("--seed", default="1bz-scale", help="derivation seed (tools/scale_names.py)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--per-block", type=int, default=100, help="names registered per block")
    p.add_argument("--deploy-block", type=int, default=1)
    p.add_argument("--tail", type=int, default=5, help="empty blocks after the last registration")
    p.add_argument("--block-time", type=float, default=0, help="seconds per new empty block (0: a fixed head)")
    p.add_argument("--contract", default="0x" + keccak(b"1bz-scale-registry")[12:].hex())
    p.add_argument("--lookup", default="0x" + keccak(b"1bz-scale-lookup")[12:].hex())
    p.add_argument("--owner", default="0x" + keccak(b"1bz-scale-owner")[12:].hex())
    p.add_argument("--wallets", help="comma-separated wallets used in turn (default: one derived per name)")
    p.add_argument("--hash-cache", help="file of the N node hashes (built if missing)")
    p.add_argument("--info", help="write {port, contract, lookup, deploy_block, head} here once listening")
    args = p.parse_args()
    if not 0 <= args.names <= 9_999_999:
        p.error("--names must be 0..9999999")
    started = time.time()
    chain = SyntheticChain(args)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.chain = chain
    info = {"port": server.server_address[1], "contract": chain.contract, "lookup_address": chain.lookup_address,
            "deploy_block": chain.deploy_block, "head": chain.head(), "names": chain.n}
    if args.info:
        sn.write_atomic(args.info, json.dumps(info).encode())
    print("synthetic chain ready in %.1f s: %s" % (time.time() - started, json.dumps(info)), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
