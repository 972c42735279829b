#!/usr/bin/env python3
"""The signed registry records of the scale rig's N names (tools/scale_names.py), as JSON
lines in the form `onebz sign`/`onebz publish` produce (docs/registry.md, Metadata
record), for `onebz-registry import`. Also writes every registered name (names.txt) and
the node-hash table tools/synthetic_chain.py loads (--hash-cache), so the Ed25519 keys
are derived once. Names with i % 20 == 3 get no record ("as in life").

    tools/scale_records.py --names N --out DIR [--seed S] [--jobs 2]
    -> DIR/records.jsonl, DIR/names.txt, DIR/hashes.bin
"""
import argparse
import base64
import json
import os
import sys
import time
from multiprocessing import Pool

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale_names as sn  # noqa: E402

SEQ = 1_700_000_000
CHUNK = 2000


def record_line(seed: str, i: int):
    """(node hash, JSON line or None) of name i."""
    key, pem, node_id, node_hash = sn.identity(seed, i)
    if not sn.has_record(i):
        return node_hash, None
    v4 = [sn.ipv4(i)]
    v6 = [sn.ipv6(i)] if sn.has_aaaa(i) else []
    joined = ",".join(sorted(v4 + v6, key=lambda a: a.encode()))
    message = ("1bz-meta-v1\n%s\n%d\n%s" % (node_id, SEQ, joined)).encode()
    record = {"node_id": node_id, "public_key": pem, "ipv4": v4, "ipv6": v6, "seq": SEQ,
              "signature": base64.b64encode(key.sign(message)).decode("ascii")}
    return node_hash, json.dumps(record, separators=(",", ":"))


def chunk(job):
    seed, first, last = job
    return [record_line(seed, i) for i in range(first, last + 1)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--names", type=int, required=True)
    p.add_argument("--seed", default="1bz-scale")
    p.add_argument("--out", required=True)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    jobs = [(args.seed, first, min(args.names, first + CHUNK - 1)) for first in range(1, args.names + 1, CHUNK)]
    records = 0
    hashes = bytearray()
    paths = {k: os.path.join(args.out, k) for k in ("records.jsonl", "names.txt", "hashes.bin")}
    with open(paths["records.jsonl"] + ".tmp", "w") as out, Pool(args.jobs) as pool:
        for results in pool.imap(chunk, jobs):
            for node_hash, line in results:
                hashes += node_hash
                if line is not None:
                    out.write(line + "\n")
                    records += 1
    os.replace(paths["records.jsonl"] + ".tmp", paths["records.jsonl"])
    sn.write_atomic(paths["names.txt"], "".join(sn.name(i) + "\n" for i in range(1, args.names + 1)).encode())
    sn.write_atomic(paths["hashes.bin"], bytes(hashes))
    print("%d names, %d signed records in %.1f s (%d jobs)" % (args.names, records, time.time() - started, args.jobs))


if __name__ == "__main__":
    main()
