"""Generates vectors.json: known answers for NodeRegistry's formats, computed with
Python `cryptography` (as the seed's identity.py) and eth_hash's Keccak-256.
Run with the devnet venv: .venv-devnet/bin/python Tests/Fixtures/registry/make_vectors.py
"""
import base64, hashlib, json, os
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
from eth_hash.auto import keccak

def canonical(node_id, seq, addrs):
    return ("1bz-meta-v1\n%s\n%d\n%s" % (node_id, seq, ",".join(sorted(addrs)))).encode()

vectors = []
for label in ["1bz vector 1", "1bz vector 2"]:
    seed = hashlib.sha256(label.encode()).digest()
    key = Ed25519PrivateKey.from_private_bytes(seed)
    pub = key.public_key()
    pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    priv = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    node_id = hashlib.sha256(pem).hexdigest()
    node_hash = "0x" + keccak(node_id.encode()).hex()
    b32 = base64.b32encode(bytes.fromhex(node_id)).decode().lower().rstrip("=")
    ipv4 = ["192.0.2.10", "10.0.0.1"]
    ipv6 = ["2001:db8::1"]
    seq = 1700000000
    msg = canonical(node_id, seq, ipv4 + ipv6)
    sig = base64.b64encode(key.sign(msg)).decode()
    hb_ts = 1700000123
    hb = ("1bz-heartbeat-v1\n%s\n%d" % (node_id, hb_ts)).encode()
    vectors.append({
        "seed_hex": seed.hex(),
        "private_pem": priv.decode(),
        "public_pem": pem.decode(),
        "public_raw_base64": base64.b64encode(raw).decode(),
        "node_id": node_id,
        "node_hash": node_hash,
        "dns_name": b32 + ".id.1bz",
        "record": {"node_id": node_id, "public_key": pem.decode(), "ipv4": ipv4, "ipv6": ipv6,
                   "seq": seq, "signature": sig},
        "canonical_bytes_base64": base64.b64encode(msg).decode(),
        "heartbeat": {"node_id": node_id, "timestamp": hb_ts,
                      "signature": base64.b64encode(key.sign(hb)).decode()},
    })
# An encrypted key, to test the CLI's error message.
enc = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"enc").digest()).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.BestAvailableEncryption(b"secret"))
out = {"vectors": vectors, "encrypted_private_pem": enc.decode()}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")
with open(path, "w") as f:
    json.dump(out, f, indent=2, sort_keys=True)
    f.write("\n")
