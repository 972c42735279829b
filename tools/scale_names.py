"""The N deterministic names of the scale rig (issue 23), shared by
tools/synthetic_chain.py (their chain facts) and tools/scale_records.py (their signed
registry records). Everything about name i (1-based) is a pure function of (seed, i):

- name `n%07d.1bz` (i up to 9,999,999);
- an Ed25519 key from sha256(seed ‖ "key" ‖ i), node_id = sha256(canonical PEM),
  nodeHash = keccak256(node_id ASCII) exactly as docs/registry.md says;
- "as in life": 10 % verified (i % 10 == 0), ~14 % staked (i % 7 == 0, 1-5 ether),
  25 % with an AAAA address (i % 4 == 0), 5 % with no registry record (i % 20 == 3).

Needs `cryptography` and `eth_hash` (the devnet venv has both).
"""
import base64
import hashlib
import os
import struct
from array import array
from bisect import bisect_left

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_hash.auto import keccak

ETHER = 10**18
SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def name(i: int) -> str:
    return "n%07d.1bz" % i


def index_of_name(text: str, n: int):
    """i for a name this rig registered (exact text, as the contract compares), else None."""
    if len(text) != 12 or not text.startswith("n") or not text.endswith(".1bz") or not text[1:8].isdigit():
        return None
    i = int(text[1:8])
    return i if 1 <= i <= n else None


def verified(i: int) -> bool:
    return i % 10 == 0


def stake(i: int) -> int:
    return (i % 5 + 1) * ETHER if i % 7 == 0 else 0


def has_aaaa(i: int) -> bool:
    return i % 4 == 0


def has_record(i: int) -> bool:
    return i % 20 != 3


def private_seed(seed: str, i: int) -> bytes:
    return hashlib.sha256(b"%s\x00key\x00%d" % (seed.encode(), i)).digest()


def private_key(seed: str, i: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(private_seed(seed, i))


def public_pem(raw_public: bytes) -> str:
    """The canonical SPKI PEM (docs/registry.md, Identity)."""
    b64 = base64.b64encode(SPKI_PREFIX + raw_public).decode("ascii")
    return "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n"


def identity(seed: str, i: int):
    """(private key, public PEM, node_id hex, nodeHash bytes) of name i."""
    key = private_key(seed, i)
    pem = public_pem(key.public_key().public_bytes_raw())
    node_id = hashlib.sha256(pem.encode("ascii")).hexdigest()
    return key, pem, node_id, keccak(node_id.encode("ascii"))


def ipv4(i: int) -> str:
    return "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)


def ipv6(i: int) -> str:
    hi, lo = i >> 16, i & 0xFFFF
    return "2001:db8::%x:%x" % (hi, lo) if hi else "2001:db8::%x" % lo


class HashTable:
    """nodeHash of every i (32 bytes each, 32 MB at 1M) and a sorted index of their first
    8 bytes (12 bytes a name) for nodes(nodeHash) -> i. Built once (Ed25519 derivation,
    ~90 µs a name) or loaded from `cache` (tools/scale_records.py writes it)."""

    def __init__(self, seed: str, n: int, cache: str = None):
        self.seed, self.n = seed, n
        if cache and os.path.exists(cache) and os.path.getsize(cache) == 32 * n:
            with open(cache, "rb") as f:
                self.hashes = f.read()
        else:
            self.hashes = b"".join(identity(seed, i)[3] for i in range(1, n + 1))
            if cache:
                write_atomic(cache, self.hashes)
        pairs = sorted((struct.unpack_from(">Q", self.hashes, 32 * k)[0], k + 1) for k in range(n))
        # (keys, index) as one value: add() swaps in new arrays whole, so a lookup on
        # another thread never sees a key beside another key's index.
        self.sorted = (array("Q", (p[0] for p in pairs)), array("I", (p[1] for p in pairs)))

    def add(self, i: int) -> bytes:
        """Adds name i = n + 1 (a registration at run time) and returns its node hash; one
        writer at a time (the caller's lock), lookups from any thread meanwhile."""
        if i != self.n + 1:
            raise ValueError("names are added in order: %d after %d" % (i, self.n))
        node_hash = identity(self.seed, i)[3]
        key = struct.unpack(">Q", node_hash[:8])[0]
        keys, index = array("Q", self.sorted[0]), array("I", self.sorted[1])
        k = bisect_left(keys, key)
        keys.insert(k, key)
        index.insert(k, i)
        self.hashes += node_hash
        self.sorted = (keys, index)
        self.n = i
        return node_hash

    def hash(self, i: int) -> bytes:
        return self.hashes[32 * (i - 1):32 * i]

    def lookup(self, node_hash: bytes):
        """i of a node hash, or None."""
        if len(node_hash) != 32:
            return None
        key = struct.unpack(">Q", node_hash[:8])[0]
        keys, index = self.sorted
        k = bisect_left(keys, key)
        while k < len(keys) and keys[k] == key:
            i = index[k]
            if self.hash(i) == node_hash:
                return i
            k += 1
        return None


def write_atomic(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
