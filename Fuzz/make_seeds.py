#!/usr/bin/env python3
"""Writes the fuzz seed corpora, one directory per target (Fuzz/seeds/<target>):
- dns: real query shapes as dig sends them (RD, AD, EDNS with cookies, 0x20 case, the
  types we answer and some we do not), the golden packets of Tests/DNSWireTests, and
  answers with compression;
- the parser targets (registry-json, doh, jsonrpc, bind-key, tsig-key):
  Fuzz/make_parser_seeds.py.
Deterministic."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "dns")


def name(text):
    out = b""
    for label in text.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qname, qtype, qid=0x1234, flags=0x0120, edns=None, qclass=1):
    additional = 1 if edns is not None else 0
    msg = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, additional) + name(qname) + struct.pack(">HH", qtype, qclass)
    if edns is not None:
        size, version, do, options = edns
        rdata = b"".join(struct.pack(">HH", code, len(data)) + data for code, data in options)
        msg += b"\0" + struct.pack(">HHBBHH", 41, size, 0, version, 0x8000 if do else 0, len(rdata)) + rdata
    return msg


GOLDEN = [
    "9add00200001000000000001035777570331627a00001c000100002904d0000000000000",
    "132601200001000000000001036e73310331627a0000010001000029100000000000000c000a00080123456789abcdef",
    "4ac5850000010002000000040331627a0000020001c00c0002000100000e100006036e7331c00cc00c0002000100000e10"
    "0006036e7332c00cc0210001000100000e100004c0000235c0330001000100000e100004c6336435c021001c000100000e"
    "10001020010db8000000000000000000000053c033001c000100000e10001020010db8000100000000000000000053",
    "78e68100000100000002000203666f6f076578616d706c650331627a0000010001c0100002000100000e100006036e7331"
    "c010c0100002000100000e100011026e73076f757473696465047465737400c02d0001000100000e100004c0000264c02d"
    "001c000100000e10001020010db8000200000000000000000100",
]


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = [bytes.fromhex(h) for h in GOLDEN]
    names = ["1bz", "www.1bz", "WwW.1Bz", "ns1.1bz", "shashi.1bz", "nope.1bz", "a.b.child.1bz", "big.1bz",
             "example.com", "x" * 52 + ".id.1bz", "version.bind"]
    types = [1, 28, 16, 2, 6, 15, 255, 252, 43, 65535]
    cookie = (10, bytes.fromhex("0123456789abcdef"))
    server_cookie = (10, bytes.fromhex("0123456789abcdef0100000065a1b2c3d4e5f60718293a4b"))
    for i, n in enumerate(names):
        for j, t in enumerate(types):
            variant = (i + j) % 5
            edns = [None, (1232, 0, False, []), (4096, 0, True, [cookie]), (512, 1, False, []),
                    (1232, 0, False, [server_cookie, (12, b"\0" * 8)])][variant]
            seeds.append(query(n, t, qid=i * 16 + j, edns=edns))
    seeds.append(query("version.bind", 16, qclass=3))
    seeds.append(query("1bz", 1, flags=0x2800))  # opcode UPDATE
    seeds.append(query("1bz", 1, flags=0x8000))  # QR set
    for k, seed in enumerate(seeds):
        with open(os.path.join(OUT, f"seed-{k:03d}"), "wb") as f:
            f.write(seed)
    print(f"{len(seeds)} seeds in {OUT}")


if __name__ == "__main__":
    main()
