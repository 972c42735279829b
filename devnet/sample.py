"""Sample nodes: real Ed25519 identities made exactly as the seed's identity.py does,
registered on the devnet under `.1bz` names.

identity.py writes the private key as PKCS#8 PEM encrypted with
BestAvailableEncryption(password) and the public key as SubjectPublicKeyInfo PEM;
node_id = sha256(public PEM bytes).hexdigest(). We also write an unencrypted PKCS#8 copy
for the tools (the Swift side has no PEM decryption).
"""
import hashlib
import json
import os
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devnet import abi
from devnet.chain import Chain, node_hash, selector

ETHER = 10**18
TX_GAS = 500_000

# name, account index (wallet), verified, stake in wei
SAMPLES = [
    ("shashi.1bz", 1, True, 0),
    ("acme.1bz", 2, False, 5 * ETHER),
    ("bob.1bz", 3, False, 0),
]


def generate_identity(directory: str, password: bytes) -> dict:
    """identity.py's generate_identity, writing into `directory`, plus the plain copy."""
    os.makedirs(directory, exist_ok=True)
    private_key = Ed25519PrivateKey.generate()
    public_key = private_key.public_key()
    priv_bytes = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.BestAvailableEncryption(password),
    )
    plain_bytes = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    pub_bytes = public_key.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    paths = {
        "encrypted": os.path.join(directory, "node_private.pem"),
        "plain": os.path.join(directory, "node_private_unencrypted.pem"),
        "public": os.path.join(directory, "node_public.pem"),
    }
    with open(paths["encrypted"], "wb") as f:
        f.write(priv_bytes)
    with open(paths["plain"], "wb") as f:
        f.write(plain_bytes)
    os.chmod(paths["encrypted"], 0o600)
    os.chmod(paths["plain"], 0o600)
    with open(paths["public"], "wb") as f:
        f.write(pub_bytes)
    node_id = hashlib.sha256(pub_bytes).hexdigest()
    with open(os.path.join(directory, "node_id.txt"), "w") as f:
        f.write(node_id)
    return {"node_id": node_id, "public_pem": pub_bytes.decode("ascii"), "paths": paths}


def register_samples(chain: Chain, state_dir: str) -> list:
    """Creates the sample identities, registers them, writes sample-nodes.json."""
    fee = int(chain.call_registry("verificationFee()"), 16)
    nodes = []
    for name, account, verified, stake in SAMPLES:
        password = secrets.token_urlsafe(12)
        ident = generate_identity(os.path.join(state_dir, "nodes", name.split(".")[0]), password.encode())
        h = node_hash(ident["node_id"])
        wallet = chain.accounts[account]
        to = chain.registry_address
        data = selector("registerNode(bytes32,string)") + abi.encode_bytes32_string(h, name)
        chain.transact({"from": wallet, "to": to, "data": data, "gas": TX_GAS})
        if verified:
            data = selector("verifyNode(bytes32)") + h.hex()
            chain.transact({"from": wallet, "to": to, "data": data, "value": fee, "gas": TX_GAS})
        if stake:
            data = selector("addStake(bytes32)") + h.hex()
            chain.transact({"from": wallet, "to": to, "data": data, "value": stake, "gas": TX_GAS})
        nodes.append(
            {
                "name": name,
                "node_id": ident["node_id"],
                "node_hash": "0x" + h.hex(),
                "public_pem": ident["public_pem"],
                "public_key_path": os.path.abspath(ident["paths"]["public"]),
                "private_key_path": os.path.abspath(ident["paths"]["plain"]),
                "encrypted_private_key_path": os.path.abspath(ident["paths"]["encrypted"]),
                "password": password,
                "wallet": wallet,
            }
        )
    write_json_atomic(os.path.join(state_dir, "sample-nodes.json"), nodes)
    return nodes


def write_json_atomic(path: str, value) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
