"""eth_getProof: the devnet's proofs verify against the block's stateRoot with a
verifier written independently of py-trie (devnet/proof.py verify_proof), and prove
exactly the values resolveDNS and nodes return."""
import rlp
from eth_utils import keccak

from devnet.proof import EMPTY_ROOT, verify_proof
from devnet.tests.test_rpc import DevnetTestCase

# Vyper 0.4.3 layout of contracts/BizNodeRegistry.vy (compiler output "layout"):
# _nodes at slot 1, dnsToNode at slot 2; HashMap element = keccak256(slot ‖ key), a
# String key hashed first (keccak256(bytes)); struct members at consecutive slots.
NODES_SLOT, DNS_SLOT = 1, 2
WALLET, NAME_LEN, NAME_DATA, VERIFIED, STAKE, REGISTERED_AT = 0, 1, 2, 10, 11, 12


def u256(n: int) -> bytes:
    return n.to_bytes(32, "big")


def dns_slot(name: str) -> int:
    return int.from_bytes(keccak(u256(DNS_SLOT) + keccak(name.encode())), "big")


def node_base(node_hash: bytes) -> int:
    return int.from_bytes(keccak(u256(NODES_SLOT) + node_hash), "big")


class ProofTest(DevnetTestCase):
    def get_proof(self, slots, block="latest"):
        return self.rpc("eth_getProof", self.chain.registry_address, [hex(s) for s in slots], block)

    def verified_storage(self, result, block="latest"):
        """Checks the account proof against the block's stateRoot and every storage proof
        against the account's storageHash; returns {slot: value}."""
        header = self.rpc("eth_getBlockByNumber", block, False)
        state_root = bytes.fromhex(header["stateRoot"][2:])
        address = bytes.fromhex(self.chain.registry_address[2:])
        account = verify_proof(state_root, keccak(address), result["accountProof"])
        self.assertIsNotNone(account)
        nonce, balance, storage_root, code_hash = rlp.decode(account)
        self.assertEqual(int.from_bytes(balance, "big"), int(result["balance"], 16))
        self.assertEqual(int.from_bytes(nonce, "big"), int(result["nonce"], 16))
        self.assertEqual("0x" + storage_root.hex(), result["storageHash"])
        self.assertEqual("0x" + code_hash.hex(), result["codeHash"])
        self.assertEqual(code_hash, keccak(bytes.fromhex(self.rpc("eth_getCode", self.chain.registry_address, block)[2:])))
        values = {}
        for entry in result["storageProof"]:
            key = bytes.fromhex(entry["key"][2:])
            raw = verify_proof(storage_root, keccak(key), entry["proof"])
            value = int.from_bytes(rlp.decode(raw), "big") if raw else 0
            self.assertEqual(value, int(entry["value"], 16))
            values[int.from_bytes(key, "big")] = value
        return values

    def test_state_root_in_header_is_the_served_trie(self):
        head = self.rpc("eth_getBlockByNumber", "latest", False)
        self.assertRegex(head["stateRoot"], "^0x[0-9a-f]{64}$")
        # An empty key list still proves the account.
        self.verified_storage(self.get_proof([]))

    def test_proves_what_resolve_and_nodes_return(self):
        for sample in self.samples:
            name, node_hash = sample["name"], bytes.fromhex(sample["node_hash"][2:])
            base = node_base(node_hash)
            slots = [dns_slot(name), base + WALLET, base + NAME_LEN, base + NAME_DATA, base + VERIFIED,
                     base + STAKE, base + REGISTERED_AT]
            values = self.verified_storage(self.get_proof(slots))
            self.assertEqual(u256(values[slots[0]]), node_hash)
            # nodes(bytes32) by eth_call: the proven slots say the same.
            out = bytes.fromhex(self.call_registry("0xd86e697d" + node_hash.hex())[2:])
            words = [out[i:i + 32] for i in range(0, len(out), 32)]
            self.assertEqual(values[base + WALLET], int.from_bytes(words[0], "big"))
            self.assertEqual(values[base + VERIFIED], int.from_bytes(words[2], "big"))
            self.assertEqual(values[base + STAKE], int.from_bytes(words[3], "big"))
            self.assertEqual(values[base + REGISTERED_AT], int.from_bytes(words[4], "big"))
            length = values[base + NAME_LEN]
            self.assertEqual(length, len(name))
            self.assertEqual(u256(values[base + NAME_DATA])[:length], name.encode())

    def test_absent_name_is_proven_zero(self):
        values = self.verified_storage(self.get_proof([dns_slot("nobody.1bz")]))
        self.assertEqual(values[dns_slot("nobody.1bz")], 0)

    def test_historical_block_uses_that_blocks_root(self):
        sample = self.samples[0]
        deploy = self.chain.deploy_block
        slot = dns_slot(sample["name"])
        before = self.verified_storage(self.get_proof([slot], hex(deploy)), hex(deploy))
        self.assertEqual(before[slot], 0)  # not registered yet at the deploy block
        now = self.verified_storage(self.get_proof([slot]))
        self.assertEqual(u256(now[slot]), bytes.fromhex(sample["node_hash"][2:]))

    def test_forged_node_fails(self):
        result = self.get_proof([dns_slot(self.samples[0]["name"])])
        header = self.rpc("eth_getBlockByNumber", "latest", False)
        root = bytes.fromhex(header["stateRoot"][2:])
        address = bytes.fromhex(self.chain.registry_address[2:])
        forged = list(result["accountProof"])
        last = bytearray(bytes.fromhex(forged[-1][2:]))
        last[-1] ^= 1
        forged[-1] = "0x" + last.hex()
        with self.assertRaises(ValueError):
            verify_proof(root, keccak(address), forged)

    def test_account_without_code_and_batch(self):
        reply = self.post([
            {"jsonrpc": "2.0", "id": 1, "method": "eth_getProof", "params": ["0x" + "11" * 20, [], "latest"]},
            {"jsonrpc": "2.0", "id": 2, "method": "eth_getBlockByNumber", "params": ["latest", False]},
        ])
        by_id = {r["id"]: r["result"] for r in reply}
        self.assertEqual(by_id[1]["storageHash"], "0x" + EMPTY_ROOT.hex())
        root = bytes.fromhex(by_id[2]["stateRoot"][2:])
        self.assertIsNone(verify_proof(root, keccak(bytes.fromhex("11" * 20)), by_id[1]["accountProof"]))

    def test_bad_params(self):
        self.assertEqual(self.rpc_error("eth_getProof", self.chain.registry_address)["code"], -32602)
        self.assertEqual(self.rpc_error("eth_getProof", self.chain.registry_address, [], "0xffffff")["code"], -32000)
