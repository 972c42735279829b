"""The devnet's JSON-RPC methods over real HTTP (a server on a free loopback port)."""
import hashlib
import json
import os
import socket
import tempfile
import threading
import unittest
import urllib.request

from cryptography.hazmat.primitives import serialization
from eth_utils import keccak

from devnet import abi
from devnet.chain import Chain, abi_signature, selector
from devnet.rpc import Dispatcher
from devnet.sample import SAMPLES, register_samples
from devnet.server import RPCServer

SOLIDITY_FUNCTIONS = [
    "nodes(bytes32)", "dnsToNode(string)", "verificationFee()", "owner()",
    "registerNode(bytes32,string)", "verifyNode(bytes32)", "addStake(bytes32)",
    "resolveDNS(string)", "updateVerificationFee(uint256)", "transferOwnership(address)",
]
SOLIDITY_EVENTS = [
    "NodeRegistered(bytes32,address,string)", "NodeVerified(bytes32)",
    "StakeAdded(bytes32,uint256)", "TrustUpdated(bytes32,uint256)",
]


class DevnetTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.chain = Chain()
        cls.chain.deploy()
        cls.samples = register_samples(cls.chain, cls.tmp.name)
        cls.server = RPCServer(("127.0.0.1", 0), Dispatcher(cls.chain, max_log_range=50))
        cls.url = "http://127.0.0.1:%d" % cls.server.server_address[1]
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        cls.tmp.cleanup()

    def post(self, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.url, data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def rpc(self, method, *params):
        reply = self.post({"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)})
        self.assertEqual(reply["id"], 7)
        if "error" in reply:
            raise AssertionError("%s failed: %r" % (method, reply["error"]))
        return reply["result"]

    def rpc_error(self, method, *params):
        reply = self.post({"jsonrpc": "2.0", "id": 8, "method": method, "params": list(params)})
        self.assertIn("error", reply, reply)
        return reply["error"]

    def call_registry(self, data, block="latest"):
        return self.rpc("eth_call", {"to": self.chain.registry_address, "data": data}, block)


class BasicsTest(DevnetTestCase):
    def test_chain_id_and_net_version(self):
        self.assertEqual(int(self.rpc("eth_chainId"), 16), int(self.rpc("net_version")))

    def test_block_number_and_block(self):
        head = int(self.rpc("eth_blockNumber"), 16)
        block = self.rpc("eth_getBlockByNumber", hex(head), False)
        parent = self.rpc("eth_getBlockByNumber", hex(head - 1), False)
        self.assertEqual(int(block["number"], 16), head)
        self.assertEqual(block["parentHash"], parent["hash"])
        self.assertEqual(len(block["hash"]), 66)
        self.assertGreater(int(block["timestamp"], 16), 1_600_000_000)
        self.assertEqual(len(block["logsBloom"]), 2 + 512)
        self.assertIsNone(self.rpc("eth_getBlockByNumber", hex(head + 100), False))
        for tag in ("latest", "finalized", "safe", "earliest", "pending"):
            self.assertIsNotNone(self.rpc("eth_getBlockByNumber", tag, False), tag)

    def test_unknown_method_and_bad_json(self):
        self.assertEqual(self.rpc_error("eth_frobnicate")["code"], -32601)
        self.assertEqual(self.post(b"{not json")["error"]["code"], -32700)
        self.assertEqual(self.post({"id": 1, "method": "eth_chainId"})["error"]["code"], -32600)
        self.assertEqual(self.rpc_error("eth_call", {"to": "xyz"}, "latest")["code"], -32602)

    def test_batch(self):
        replies = self.post([
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
            {"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []},
        ])
        self.assertEqual(sorted(r["id"] for r in replies), [1, 2])


class ContractTest(DevnetTestCase):
    def test_abi_matches_solidity_signatures(self):
        abi_json = self.chain.registry.abi
        functions = sorted(abi_signature(e) for e in abi_json if e["type"] == "function")
        events = sorted(abi_signature(e) for e in abi_json if e["type"] == "event")
        self.assertEqual(functions, sorted(SOLIDITY_FUNCTIONS))
        self.assertEqual(events, sorted(SOLIDITY_EVENTS))
        for e in abi_json:
            if e["type"] == "event":
                self.assertEqual([i["indexed"] for i in e["inputs"]][0], True)
                self.assertFalse(any(i["indexed"] for i in e["inputs"][1:]))
        nodes = next(e for e in abi_json if e.get("name") == "nodes")
        self.assertEqual([o["type"] for o in nodes["outputs"]], ["address", "string", "bool", "uint256", "uint256"])
        code = self.rpc("eth_getCode", self.chain.registry_address, "latest")
        for sig in SOLIDITY_FUNCTIONS:
            self.assertIn(selector(sig)[2:], code, sig)

    def test_resolve_samples(self):
        self.assertEqual([s["name"] for s in self.samples], [s[0] for s in SAMPLES])
        for s in self.samples:
            got = self.call_registry(selector("resolveDNS(string)") + abi.encode_string(s["name"]))
            self.assertEqual(got, s["node_hash"])
            self.assertEqual(got, "0x" + keccak(s["node_id"].encode()).hex())
        missing = self.call_registry(selector("resolveDNS(string)") + abi.encode_string("nobody.1bz"))
        self.assertEqual(int(missing, 16), 0)

    def test_sample_identities_follow_identity_py(self):
        for s in self.samples:
            self.assertEqual(sorted(s), sorted(["name", "node_id", "node_hash", "public_pem", "public_key_path",
                                                "private_key_path", "encrypted_private_key_path", "password", "wallet"]))
            self.assertEqual(hashlib.sha256(s["public_pem"].encode()).hexdigest(), s["node_id"])
            with open(s["public_key_path"]) as f:
                self.assertEqual(f.read(), s["public_pem"])
            with open(s["encrypted_private_key_path"], "rb") as f:
                enc = f.read()
            self.assertIn(b"BEGIN ENCRYPTED PRIVATE KEY", enc)
            key = serialization.load_pem_private_key(enc, password=s["password"].encode())
            with open(s["private_key_path"], "rb") as f:
                plain = serialization.load_pem_private_key(f.read(), password=None)
            pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            self.assertEqual(pub.decode(), s["public_pem"])
            self.assertEqual(plain.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
                             key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))

    def test_nodes_and_lookup(self):
        by_name = {s["name"]: s for s in self.samples}
        shashi = by_name["shashi.1bz"]
        out = self.call_registry(selector("nodes(bytes32)") + shashi["node_hash"][2:])
        words = [out[2 + 64 * i: 2 + 64 * (i + 1)] for i in range(len(out[2:]) // 64)]
        self.assertEqual("0x" + words[0][24:], shashi["wallet"].lower())
        self.assertEqual(int(words[1], 16), 5 * 32)  # offset of the string: five head words
        self.assertEqual(int(words[2], 16), 1)  # verified
        acme = by_name["acme.1bz"]
        out = self.call_registry(selector("nodes(bytes32)") + acme["node_hash"][2:])
        self.assertEqual(int(out[2 + 64 * 3: 2 + 64 * 4], 16), 5 * 10**18)  # stake
        look = self.rpc("eth_call", {"to": self.chain.lookup_address,
                                     "data": selector("lookup(string)") + abi.encode_string("shashi.1bz")}, "latest")
        self.assertEqual("0x" + look[2:66], shashi["node_hash"])
        none = self.rpc("eth_call", {"to": self.chain.lookup_address,
                                     "data": selector("lookup(string)") + abi.encode_string("nobody.1bz")}, "latest")
        self.assertEqual(int(none[2:66], 16), 0)

    def test_reverts_are_error_objects(self):
        err = self.rpc_error("eth_call", {"from": self.chain.accounts[5], "to": self.chain.registry_address,
                                          "data": selector("updateVerificationFee(uint256)") + "00" * 32}, "latest")
        self.assertEqual(err["code"], 3)
        self.assertEqual(err["message"], "execution reverted: Not authorized")
        self.assertEqual(err["data"], abi.error_string("Not authorized"))
        h = self.samples[0]["node_hash"][2:]
        err = self.rpc_error("eth_call", {"from": self.chain.accounts[5], "to": self.chain.registry_address,
                                          "data": selector("verifyNode(bytes32)") + h}, "latest")
        self.assertEqual(err["message"], "execution reverted: Insufficient fee")

    def test_call_at_past_block_and_future_block(self):
        deploy = self.chain.deploy_block
        data = selector("resolveDNS(string)") + abi.encode_string("shashi.1bz")
        self.assertEqual(int(self.call_registry(data, hex(deploy)), 16), 0)  # not yet registered
        self.assertEqual(self.call_registry(data, {"blockNumber": "latest"}), self.samples[0]["node_hash"])
        head = int(self.rpc("eth_blockNumber"), 16)
        self.assertEqual(self.rpc_error("eth_call", {"to": self.chain.registry_address, "data": data},
                                        hex(head + 5))["code"], -32000)


class TransactionsAndLogsTest(DevnetTestCase):
    def test_send_receipt_logs_and_range_cap(self):
        wallet = self.chain.accounts[6]
        node_id = "ab" * 32
        h = keccak(node_id.encode())
        data = selector("registerNode(bytes32,string)") + abi.encode_bytes32_string(h, "carol.1bz")
        gas = int(self.rpc("eth_estimateGas", {"from": wallet, "to": self.chain.registry_address, "data": data}), 16)
        self.assertGreater(gas, 21000)
        tx = self.rpc("eth_sendTransaction", {"from": wallet, "to": self.chain.registry_address, "data": data,
                                              "gas": hex(500000)})
        receipt = self.rpc("eth_getTransactionReceipt", tx)
        self.assertEqual(receipt["status"], "0x1")
        block = int(receipt["blockNumber"], 16)
        topic0 = "0x" + keccak(text="NodeRegistered(bytes32,address,string)").hex()
        logs = self.rpc("eth_getLogs", {"fromBlock": hex(block), "toBlock": hex(block),
                                        "address": self.chain.registry_address, "topics": [topic0]})
        self.assertEqual(len(logs), 1)
        self.assertEqual(logs[0]["topics"][1], "0x" + h.hex())
        self.assertEqual(logs[0]["blockHash"], receipt["blockHash"])
        self.assertEqual(logs, receipt["logs"])
        # A second registration of the same name is mined but reverted (status 0).
        tx2 = self.rpc("eth_sendTransaction", {"from": wallet, "to": self.chain.registry_address,
                                               "data": selector("registerNode(bytes32,string)")
                                               + abi.encode_bytes32_string(keccak(b"x"), "carol.1bz")})
        self.assertEqual(self.rpc("eth_getTransactionReceipt", tx2)["status"], "0x0")
        # Filters: other topics, a range cap error, a toBlock beyond the head is clamped.
        self.assertEqual(self.rpc("eth_getLogs", {"fromBlock": hex(block), "toBlock": hex(block),
                                                  "topics": [None, "0x" + "00" * 32]}), [])
        err = self.rpc_error("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(100)})
        self.assertEqual(err["code"], -32005)
        self.assertIn("block range too large", err["message"])
        self.assertEqual(len(self.rpc("eth_getLogs", {"fromBlock": hex(block), "toBlock": hex(block + 20),
                                                      "topics": [[topic0]]})), 1)
        self.assertEqual(self.rpc_error("eth_getLogs", {"fromBlock": hex(block), "toBlock": hex(block - 1)})["code"],
                         -32602)


class SnapshotTest(DevnetTestCase):
    def test_snapshot_revert_makes_a_reorg(self):
        snap = self.rpc("evm_snapshot")
        before = int(self.rpc("eth_blockNumber"), 16)
        self.rpc("evm_mine", 3)
        old = self.rpc("eth_getBlockByNumber", hex(before + 1), False)
        self.assertEqual(int(self.rpc("eth_blockNumber"), 16), before + 3)
        self.assertTrue(self.rpc("evm_revert", snap))
        self.assertEqual(int(self.rpc("eth_blockNumber"), 16), before)
        self.rpc("eth_sendTransaction", {"from": self.chain.accounts[7], "to": self.chain.accounts[8],
                                         "value": hex(1), "gas": hex(21000)})
        new = self.rpc("eth_getBlockByNumber", hex(before + 1), False)
        self.assertNotEqual(new["hash"], old["hash"])
        self.assertEqual(new["parentHash"], old["parentHash"])


class ProcessTest(unittest.TestCase):
    """scripts/devnet's Python entry point as a process: readiness file, pid file,
    --mine-interval, clean SIGTERM."""

    def test_mine_interval_and_sigterm(self):
        import signal
        import subprocess
        import sys
        import time
        top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.Popen([sys.executable, "-m", "devnet", "--port", "0", "--state-dir", tmp,
                                     "--mine-interval", "0.2"], cwd=top, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            try:
                info_path = os.path.join(tmp, "devnet.json")
                deadline = time.time() + 60
                while not os.path.exists(info_path) and time.time() < deadline and proc.poll() is None:
                    time.sleep(0.05)
                with open(info_path) as f:
                    info = json.load(f)
                with open(os.path.join(tmp, "devnet.pid")) as f:
                    self.assertEqual(int(f.read()), proc.pid)
                self.assertEqual(sorted(k for k in info if k in ("rpc_url", "contract_address", "chain_id", "deploy_block")),
                                 ["chain_id", "contract_address", "deploy_block", "rpc_url"])

                def head():
                    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}).encode()
                    with urllib.request.urlopen(urllib.request.Request(info["rpc_url"], data=body), timeout=10) as r:
                        return int(json.loads(r.read())["result"], 16)

                first = head()
                time.sleep(1.0)
                self.assertGreater(head(), first)
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=20), 0)
                self.assertFalse(os.path.exists(info_path))
                self.assertFalse(os.path.exists(os.path.join(tmp, "devnet.pid")))
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


class PortInUseTest(unittest.TestCase):
    def test_port_in_use_is_a_clear_error(self):
        import subprocess
        import sys
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with tempfile.TemporaryDirectory() as tmp:
            top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            proc = subprocess.run([sys.executable, "-m", "devnet", "--port", str(port), "--state-dir", tmp],
                                  cwd=top, capture_output=True, text=True, timeout=60)
        sock.close()
        self.assertEqual(proc.returncode, 2)
        self.assertIn("port %d on 127.0.0.1 is already in use" % port, proc.stderr)


if __name__ == "__main__":
    unittest.main()
