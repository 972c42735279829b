"""eth_getProof (EIP-1186) over py-evm's tries.

eth-tester does not expose proofs, but its py-evm chain keeps every trie node in one
key-value DB, so the account trie at any block is `HexaryTrie(db, header.state_root)` and
an account's storage trie is `HexaryTrie(db, account.storage_root)`. Keys are hashed
(secure tries): keccak(address) for accounts, keccak(slot as 32 bytes) for storage.

Proof nodes are RLP-encoded and, like geth's, only the nodes referenced by hash (plus the
root): a node whose encoding is shorter than 32 bytes is embedded in its parent.
"""
import rlp
from eth_utils import keccak
from trie import HexaryTrie

EMPTY_ROOT = keccak(rlp.encode(b""))
EMPTY_CODE_HASH = keccak(b"")


def _encoded_nodes(trie: HexaryTrie, key: bytes) -> list:
    out = []
    for i, node in enumerate(trie.get_proof(key)):
        encoded = rlp.encode(node)
        if i == 0 or len(encoded) >= 32:
            out.append("0x" + encoded.hex())
    return out


def _hex_quantity(value: int) -> str:
    return hex(value)


def get_proof(db, state_root: bytes, address: bytes, slots: list) -> dict:
    """The EIP-1186 result for `address` and storage `slots` (ints) at `state_root`."""
    state = HexaryTrie(db, state_root)
    account_key = keccak(address)
    raw = state.get(account_key)
    if raw:
        nonce, balance, storage_root, code_hash = rlp.decode(raw)
        nonce = int.from_bytes(nonce, "big")
        balance = int.from_bytes(balance, "big")
    else:
        nonce, balance, storage_root, code_hash = 0, 0, EMPTY_ROOT, EMPTY_CODE_HASH
    storage = HexaryTrie(db, storage_root)
    storage_proof = []
    for slot in slots:
        slot_key = slot.to_bytes(32, "big")
        value_rlp = storage.get(keccak(slot_key))
        value = int.from_bytes(rlp.decode(value_rlp), "big") if value_rlp else 0
        storage_proof.append({
            "key": "0x" + slot_key.hex(),
            "value": _hex_quantity(value),
            "proof": _encoded_nodes(storage, keccak(slot_key)),
        })
    return {
        "address": "0x" + address.hex(),
        "accountProof": _encoded_nodes(state, account_key),
        "balance": _hex_quantity(balance),
        "codeHash": "0x" + code_hash.hex(),
        "nonce": _hex_quantity(nonce),
        "storageHash": "0x" + storage_root.hex(),
        "storageProof": storage_proof,
    }


def verify_proof(root: bytes, key: bytes, proof: list):
    """Walks a Merkle-Patricia proof from `root` for the (already hashed) `key`; returns
    the value's bytes, or None when the proof shows the key is absent. Raises ValueError
    when the proof does not verify. Independent of py-trie, for the devnet's own tests."""
    nodes = {keccak(bytes.fromhex(p[2:])): rlp.decode(bytes.fromhex(p[2:])) for p in proof}
    nibbles = [n for b in key for n in (b >> 4, b & 15)]
    expected = root
    node = None
    while True:
        if isinstance(expected, list):  # embedded node
            node = expected
        elif expected == b"":
            return None
        else:
            if expected not in nodes:
                if expected == EMPTY_ROOT and not proof:
                    return None
                raise ValueError("proof is missing node %s" % expected.hex())
            node = nodes[expected]
        if len(node) == 17:
            if not nibbles:
                return node[16] or None
            expected, nibbles = node[nibbles[0]], nibbles[1:]
            continue
        if len(node) != 2:
            raise ValueError("malformed node")
        path = node[0]
        flag = path[0] >> 4
        part = ([path[0] & 15] if flag & 1 else []) + [n for b in path[1:] for n in (b >> 4, b & 15)]
        if flag >= 2:  # leaf
            return node[1] if part == nibbles else None
        if nibbles[:len(part)] != part:
            return None
        expected, nibbles = node[1], nibbles[len(part):]
