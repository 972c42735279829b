"""eth_sendRawTransaction and the fee/nonce methods a wallet (onebz) uses, over HTTP,
with transactions signed by eth-account."""
import json
import tempfile
import threading
import unittest
import urllib.request

from eth_account import Account
from eth_utils import keccak

from devnet import abi
from devnet.chain import Chain, selector
from devnet.main import fund_dev_wallet
from devnet.rpc import Dispatcher
from devnet.server import RPCServer


class WalletRPCTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.chain = Chain()
        cls.chain.deploy()
        cls.wallet = fund_dev_wallet(cls.chain, cls.tmp.name)
        with open(cls.tmp.name + "/dev-wallet.key") as f:
            cls.account = Account.from_key(f.read().strip())
        cls.dispatcher = Dispatcher(cls.chain)
        cls.server = RPCServer(("127.0.0.1", 0), cls.dispatcher)
        cls.url = "http://127.0.0.1:%d" % cls.server.server_address[1]
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        cls.tmp.cleanup()

    def call(self, method, *params):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        req = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def result(self, method, *params):
        reply = self.call(method, *params)
        self.assertNotIn("error", reply, reply)
        return reply["result"]

    def register_tx(self, name, node_id, **overrides):
        data = selector("registerNode(bytes32,string)") + abi.encode_bytes32_string(keccak(node_id.encode()), name)
        tx = dict(type=2, chainId=self.dispatcher._chain_id(), to=self.chain.registry_address, value=0, data=data,
                  gas=300_000, maxFeePerGas=10 * 10**9, maxPriorityFeePerGas=10**9,
                  nonce=int(self.result("eth_getTransactionCount", self.account.address, "pending"), 16))
        tx.update(overrides)
        return "0x" + self.account.sign_transaction(tx).raw_transaction.hex().removeprefix("0x")

    def test_dev_wallet_is_funded_and_its_key_matches(self):
        self.assertEqual(self.account.address, self.wallet)
        self.assertGreaterEqual(int(self.result("eth_getBalance", self.wallet, "latest"), 16), 1000 * 10**18)

    def test_fee_methods(self):
        self.assertEqual(self.result("eth_maxPriorityFeePerGas"), hex(10**9))
        self.assertGreater(int(self.result("eth_gasPrice"), 16), 10**9)
        history = self.result("eth_feeHistory", "0x2", "latest", [50])
        self.assertEqual(len(history["baseFeePerGas"]), len(history["gasUsedRatio"]) + 1)
        self.assertEqual(len(history["reward"]), len(history["gasUsedRatio"]))

    def test_raw_transaction_mined_and_refusals(self):
        raw = self.register_tx("raw.1bz", "a" * 64)
        tx_hash = self.result("eth_sendRawTransaction", raw)
        receipt = self.result("eth_getTransactionReceipt", tx_hash)
        self.assertEqual(receipt["status"], "0x1")
        self.assertEqual(receipt["from"].lower(), self.account.address.lower())
        tx = self.result("eth_getTransactionByHash", tx_hash)
        self.assertEqual(tx["maxPriorityFeePerGas"], hex(10**9))
        # the same bytes again: the nonce is used
        self.assertIn("nonce too low", self.call("eth_sendRawTransaction", raw)["error"]["message"])
        # another chain's transaction
        wrong_chain = self.register_tx("other.1bz", "b" * 64, chainId=137)
        self.assertIn("invalid chain id", self.call("eth_sendRawTransaction", wrong_chain)["error"]["message"])
        # a reverting transaction is mined with status 0, and eth_estimateGas gives the reason
        taken = self.register_tx("raw.1bz", "c" * 64)
        data = selector("registerNode(bytes32,string)") + abi.encode_bytes32_string(keccak(b"c" * 64), "raw.1bz")
        refused = self.call("eth_estimateGas", {"from": self.account.address, "to": self.chain.registry_address, "data": data})
        self.assertEqual(refused["error"]["message"], "execution reverted: DNS already taken")
        reverted = self.result("eth_getTransactionReceipt", self.result("eth_sendRawTransaction", taken))
        self.assertEqual(reverted["status"], "0x0")

    def test_unfunded_sender_is_refused(self):
        poor = Account.create()
        tx = dict(type=2, chainId=self.dispatcher._chain_id(), to=self.chain.registry_address, value=0, data="0x",
                  gas=21_000, maxFeePerGas=10 * 10**9, maxPriorityFeePerGas=10**9, nonce=0)
        raw = "0x" + poor.sign_transaction(tx).raw_transaction.hex().removeprefix("0x")
        error = self.call("eth_sendRawTransaction", raw)["error"]
        self.assertEqual(error["code"], -32000)
        self.assertIn("insufficient funds", error["message"])
        estimate = self.call("eth_estimateGas", {"from": poor.address, "to": self.chain.registry_address,
                                                 "value": hex(10**18)})
        self.assertIn("insufficient funds", estimate["error"]["message"])


if __name__ == "__main__":
    unittest.main()
