#!/usr/bin/env python3
"""Writes the seed corpora of the parser fuzz targets (Fuzz/seeds/<target>), real inputs
of each kind:
- registry-json: a signed record as `onebz publish` sends it (Swift's JSONEncoder escapes
  "/"; both spellings), a heartbeat, an endorsement, a registry entry, a change page, an
  error body and a proof bundle; signed with the Ed25519 key whose seed is bytes 1...32
  (RegistryJSONTarget.key), the endorsed node's seed is 33...64;
- doh: GET query strings, dig's query messages base64url-encoded (RFC 8484 4.1, ID 0);
- jsonrpc: responses as the devnet (py-evm behind devnet/server.py, json.dumps) sends
  them: eth_blockNumber, eth_chainId, eth_call results (nodes, resolveDNS, lookup),
  eth_getBlockByNumber and eth_getProof (the recorded devnet answers in
  Tests/ChainReaderTests/HeaderVectors.swift and ProofVectors.swift), eth_getLogs with a
  NodeRegistered event, batches (ids 1...3 as JSONRPCTarget asks), error objects;
- bind-key: `.private` NUL `.key` pairs made by `ldns-keygen` (ECDSAP256SHA256 and
  ED25519, ZSK and KSK; made once, kept: `--keys` makes new ones), plus one pair in
  dnssec-keygen's layout (timing metadata, comment header);
- tsig-key: key files in tsig-keygen's layout (hmac-sha256, hmac-sha512, several keys,
  comments);
- svcb: SVCB/HTTPS RDATA, RFC 9460 Appendix D's vectors and what onebzd publishes for a
  node (`1 . alpn=h2,http/1.1 port=8443 ipv4hint=... ipv6hint=...`), and service names
  in wire form (`_443._tcp.shashi.1bz`).
Deterministic except for new ldns-keygen keys. Needs python3-cryptography."""
import base64
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)


def write(target, seeds):
    out = os.path.join(HERE, "seeds", target)
    os.makedirs(out, exist_ok=True)
    for old in glob.glob(os.path.join(out, "seed-*")):
        os.remove(old)
    for k, seed in enumerate(seeds):
        with open(os.path.join(out, f"seed-{k:03d}"), "wb") as f:
            f.write(seed if isinstance(seed, bytes) else seed.encode())
    print(f"{len(seeds)} seeds in {out}")


# Keccak-256 (Ethereum's, not SHA3-256), for node hashes and event topics.
_RC = [0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000, 0x000000000000808B,
       0x0000000080000001, 0x8000000080008081, 0x8000000000008009, 0x000000000000008A, 0x0000000000000088,
       0x0000000080008009, 0x000000008000000A, 0x000000008000808B, 0x800000000000008B, 0x8000000000008089,
       0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
       0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008]
_ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]
_M = (1 << 64) - 1


def _rol(x, n):
    return ((x << n) | (x >> (64 - n))) & _M if n else x


def keccak256(data):
    rate = 136
    padded = bytearray(data) + b"\x01" + b"\x00" * ((rate - (len(data) + 1) % rate) % rate)
    padded[-1] |= 0x80
    state = [[0] * 5 for _ in range(5)]
    for block in range(0, len(padded), rate):
        for i in range(rate // 8):
            state[i % 5][i // 5] ^= int.from_bytes(padded[block + 8 * i:block + 8 * i + 8], "little")
        for rc in _RC:
            c = [state[x][0] ^ state[x][1] ^ state[x][2] ^ state[x][3] ^ state[x][4] for x in range(5)]
            d = [c[(x - 1) % 5] ^ _rol(c[(x + 1) % 5], 1) for x in range(5)]
            state = [[state[x][y] ^ d[x] for y in range(5)] for x in range(5)]
            b = [[0] * 5 for _ in range(5)]
            for x in range(5):
                for y in range(5):
                    b[y][(2 * x + 3 * y) % 5] = _rol(state[x][y], _ROT[x][y])
            state = [[b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y]) for y in range(5)] for x in range(5)]
            state[0][0] ^= rc
    return b"".join(state[i % 5][i // 5].to_bytes(8, "little") for i in range(4))


assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


# MARK: registry-json

def node_key(seed):
    key = Ed25519PrivateKey.from_private_bytes(bytes(seed))
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, pem.decode(), hashlib.sha256(pem).hexdigest()


def swift_json(obj):
    """Like Swift's JSONEncoder: compact, "/" escaped."""
    return json.dumps(obj, separators=(",", ":")).replace("/", "\\/")


def registry_seeds():
    key, pem, node_id = node_key(range(1, 33))
    _, _, other_id = node_key(range(33, 65))
    ipv4, ipv6, seq = ["192.0.2.10", "198.51.100.7"], ["2001:db8::10"], 3
    addresses = ",".join(sorted(ipv4 + ipv6))
    signed = f"1bz-meta-v1\n{node_id}\n{seq}\n{addresses}".encode()
    record = {"node_id": node_id, "public_key": pem, "ipv4": ipv4, "ipv6": ipv6, "seq": seq,
              "signature": base64.b64encode(key.sign(signed)).decode()}
    ts = 1_800_000_000
    heartbeat = {"node_id": node_id, "timestamp": ts,
                 "signature": base64.b64encode(key.sign(f"1bz-heartbeat-v1\n{node_id}\n{ts}".encode())).decode()}
    endorsement = {"node_id": other_id, "endorser": node_id, "timestamp": ts,
                   "signature": base64.b64encode(
                       key.sign(f"1bz-endorse-v1\n{node_id}\n{other_id}\n{ts}".encode())).decode()}
    node_hash = "0x" + keccak256(node_id.encode()).hex()
    entry = dict(record, node_hash=node_hash, trust=40, tier="verified", registered=True, verified=True,
                 stake_wei="1000000000000000000", updated_at=ts, last_heartbeat=ts)
    changes = {"changes": [{"cursor": 1, "node_id": node_id}, {"cursor": 2, "node_id": other_id}], "next": 2}
    error = {"error": "no_record", "detail": "no record for shashi.1bz", "node_hash": node_hash}
    vectors = open(os.path.join(TOP, "Tests/ChainReaderTests/ProofVectors.swift")).read()
    proof = json.loads(re.search(r'proofJSON: #"(.*?)"#', vectors).group(1))
    state_root = re.search(r'stateRoot = "(0x[0-9a-f]+)"', vectors).group(1)
    registry = re.search(r'registry = "(0x[0-9a-f]+)"', vectors).group(1)
    bundle = {"version": 1, "name": "shashi.1bz", "node_hash": node_hash,
              "block": {"number": 7, "hash": "0x" + "11" * 32, "state_root": state_root}, "contract": registry,
              "storage_layout": "vyper", "name_proof": proof, "node_proof": proof, "record": record}
    # A record declaring services (docs/registry.md#services): one more signed line.
    services = [{"proto": "https", "port": 443}, {"proto": "https", "port": 8443}]
    terms = ",".join(sorted(f"{s['proto']}/{s['port']}" for s in services))
    with_services = dict(record, seq=seq + 1, services=services, signature=base64.b64encode(key.sign(
        f"1bz-meta-v1\n{node_id}\n{seq + 1}\n{addresses}\nservices={terms}".encode())).decode())
    return [swift_json(record), json.dumps(record), swift_json(heartbeat), swift_json(endorsement),
            swift_json(entry), json.dumps(changes), json.dumps(error), swift_json(bundle),
            swift_json(dict(record, ipv4=[], ipv6=[], seq=0)), swift_json(with_services)]


# MARK: doh

def dns_query(qname, qtype, edns=True, cookie=False):
    import struct
    labels = b"".join(bytes([len(l)]) + l.encode() for l in qname.strip(".").split(".") if l) + b"\0"
    msg = struct.pack(">HHHHHH", 0, 0x0120, 1, 0, 0, 1 if edns else 0) + labels + struct.pack(">HH", qtype, 1)
    if edns:
        rdata = struct.pack(">HH", 10, 8) + bytes.fromhex("0123456789abcdef") if cookie else b""
        msg += b"\0" + struct.pack(">HHBBHH", 41, 1232, 0, 0, 0, len(rdata)) + rdata
    return msg


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def doh_seeds():
    queries = [dns_query("www.1bz", 1), dns_query("shashi.1bz", 28, cookie=True), dns_query("1bz", 6, edns=False),
               dns_query("1bz", 48), dns_query("nope.1bz", 16), dns_query("WwW.1Bz", 255)]
    seeds = [f"dns={b64url(q)}" for q in queries]
    seeds += [f"ct=application/dns-message&dns={b64url(queries[0])}",
              f"dns={base64.urlsafe_b64encode(queries[2]).decode()}",  # padded
              f"dns={b64url(queries[1])}&dns=AAAB",
              "dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB",  # RFC 8484 4.1.1's example
              f"dns={b64url(queries[0]).replace('A', '%41')}"]
    return seeds


# MARK: jsonrpc

def abi_word(n):
    return n.to_bytes(32, "big")


def abi_string(text):
    data = text.encode()
    return abi_word(len(data)) + data + b"\0" * ((32 - len(data) % 32) % 32)


def response(result, id=1):
    return json.dumps({"jsonrpc": "2.0", "id": id, "result": result})


def jsonrpc_seeds():
    vectors = open(os.path.join(TOP, "Tests/ChainReaderTests/ProofVectors.swift")).read()
    proof = json.loads(re.search(r'proofJSON: #"(.*?)"#', vectors).group(1))
    sample = re.search(r'name: "([^"]+)", nodeHash: "(0x[0-9a-f]+)",\s*wallet: "(0x[0-9a-f]+)"', vectors)
    name, node_hash, wallet = sample.group(1), sample.group(2), sample.group(3)
    registry = re.search(r'registry = "(0x[0-9a-f]+)"', vectors).group(1)
    headers = open(os.path.join(TOP, "Tests/ChainReaderTests/HeaderVectors.swift")).read()
    header_jsons = [json.loads(h) for h in re.findall(r'json: #"(.*?)"#', headers)]

    wallet_word = b"\0" * 12 + bytes.fromhex(wallet[2:])
    # nodes(bytes32) -> (address, string, bool, uint256, uint256)
    nodes_ret = wallet_word + abi_word(5 * 32) + abi_word(1) + abi_word(0) + abi_word(1796292346) + abi_string(name)
    lookup_ret = bytes.fromhex(node_hash[2:]) + wallet_word + abi_word(6 * 32) + abi_word(1) + abi_word(0) \
        + abi_word(1796292346) + abi_string(name)
    topic = "0x" + keccak256(b"NodeRegistered(bytes32,address,string)").hex()
    log = {"address": registry, "topics": [topic, node_hash],
           "data": "0x" + (wallet_word + abi_word(64) + abi_string(name)).hex(),
           "blockNumber": "0x5", "blockHash": "0x" + "ab" * 32, "transactionHash": "0x" + "cd" * 32,
           "transactionIndex": "0x0", "logIndex": "0x0", "removed": False}
    revert = "0x08c379a0" + (abi_word(32) + abi_string("name taken")).hex()
    seeds = [
        response("0x7"), response("0x539"),
        response("0x" + nodes_ret.hex()), response(node_hash), response("0x" + lookup_ret.hex()),
        response("0x" + abi_word(10 ** 16).hex()), response("0x" + wallet_word.hex()),
        response([log]), response([]), response(None),
        response(proof),
        json.dumps({"jsonrpc": "2.0", "id": 1, "error": {"code": 3, "message": "execution reverted: name taken",
                                                         "data": revert}}),
        json.dumps({"jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": "invalid params: expected [filter object]"}}),
        json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}),
        "[" + ", ".join([response("0x7", 1), response("0x" + nodes_ret.hex(), 2), response([log], 3)]) + "]",
        "[" + ", ".join([response([log], 3), response("0x7", 1),
                         json.dumps({"jsonrpc": "2.0", "id": 2, "error": {"code": 3, "message": "execution reverted",
                                                                           "data": revert}})]) + "]",
    ]
    seeds += [response(h) for h in header_jsons[:3]]
    return seeds


# MARK: bind-key

def bind_seeds(new_keys):
    out = os.path.join(HERE, "seeds", "bind-key")
    existing = sorted(glob.glob(os.path.join(out, "seed-*")))
    if existing and not new_keys:
        print(f"{len(existing)} seeds in {out} (kept; --keys makes new ones)")
        return None
    seeds, bases = [], []
    tmp = tempfile.mkdtemp()
    try:
        for args in (["-a", "ECDSAP256SHA256"], ["-a", "ECDSAP256SHA256", "-k"], ["-a", "ED25519"]):
            base = subprocess.run(["ldns-keygen", *args, "1bz"], cwd=tmp, check=True, capture_output=True,
                                  text=True).stdout.strip()
            bases.append(base)
            private = open(os.path.join(tmp, base + ".private")).read()
            public = open(os.path.join(tmp, base + ".key")).read()
            seeds.append(private.encode() + b"\0" + public.encode())
        # dnssec-keygen's layout: timing metadata in .private, a comment header in .key.
        private, public = seeds[0].decode().split("\0")
        record = public.strip().split("\n")[-1].replace("\t", " ")
        fields = record.split()
        tag = int(bases[0].split("+")[-1])
        bind_private = private.replace("Private-key-format: v1.2", "Private-key-format: v1.3").rstrip("\n") + \
            "\nCreated: 20250101000000\nPublish: 20250101000000\nActivate: 20250101000000\n"
        bind_public = (f"; This is a zone-signing key, keyid {tag}, for 1bz.\n"
                       "; Created: 20250101000000 (Wed Jan  1 00:00:00 2025)\n"
                       "; Publish: 20250101000000 (Wed Jan  1 00:00:00 2025)\n"
                       "; Activate: 20250101000000 (Wed Jan  1 00:00:00 2025)\n"
                       f"1bz. 3600 IN DNSKEY {' '.join(fields[fields.index('DNSKEY') + 1:])}\n")
        seeds.append(bind_private.encode() + b"\0" + bind_public.encode())
    finally:
        shutil.rmtree(tmp)
    return seeds


# MARK: tsig-key

def tsig_seeds():
    def key(name, algorithm, secret):
        return f'key "{name}" {{\n\talgorithm {algorithm};\n\tsecret "{base64.b64encode(secret).decode()}";\n}};\n'
    a = key("transfer.1bz", "hmac-sha256", bytes(range(32)))
    b = key("notify-key", "hmac-sha512", bytes(range(64, 128)))
    return [a, b, "# keys for the secondaries\n" + a + "// second\n" + b,
            "/* tsig-keygen -a hmac-sha256 transfer.1bz */\n" + a.replace('"transfer.1bz"', "transfer.1bz.")]


# MARK: svcb

def svcb_seeds():
    def name(text):
        return b"".join(bytes([len(l)]) + l.encode() for l in text.split(".") if l) + b"\0"

    def param(key, value):
        return key.to_bytes(2, "big") + len(value).to_bytes(2, "big") + value
    alpn = param(1, b"\x02h2\x08http/1.1")
    v4 = param(4, bytes([127, 0, 0, 1, 192, 0, 2, 10]))
    v6 = param(6, bytes.fromhex("20010db8000000000000000000000010"))
    return [
        b"\x00\x00" + name("foo.example.com"),  # D.1 AliasMode
        b"\x00\x01\x00" + param(3, b"\x00\x35"),  # D.2 figure 3
        b"\x00\x10" + name("foo.example.org") + param(0, b"\x00\x04\x00\x01")
        + param(1, b"\x02h2\x05h3-19") + param(4, bytes([192, 0, 2, 1])),  # D.2 figure 7
        b"\x00\x01\x00" + alpn + v4 + v6,  # a node on 443
        b"\x00\x02\x00" + alpn + param(3, (8443).to_bytes(2, "big")) + v4 + v6,  # and on 8443
        name("_443._tcp.shashi.1bz"), name("_tcp.shashi.1bz"), name("_8443._TCP.x.id.1bz"),
    ]


def main():
    write("registry-json", registry_seeds())
    write("doh", doh_seeds())
    write("jsonrpc", jsonrpc_seeds())
    bind = bind_seeds("--keys" in sys.argv)
    if bind is not None:
        write("bind-key", bind)
    write("tsig-key", tsig_seeds())
    write("svcb", svcb_seeds())


if __name__ == "__main__":
    main()
