"""tools/synthetic_chain.py (the scale rig's fake chain) answers byte for byte what the real
devnet answers for the same registrations: the same N names registered on the devnet
(registerNode, then verifyNode and addStake where the rig says so, from the same wallets)
and on the synthetic chain. Masked, because they depend on when and how a transaction
was mined, not on the registry's facts: blockNumber, blockHash, transactionHash,
transactionIndex, logIndex of each log, and the registeredAt word (a block timestamp) of
nodes() and lookup(). Everything else (address, topics, data, removed; every eth_call
result word) must be equal."""
import argparse
import os
import sys
import unittest

from devnet import abi
from devnet.chain import Chain, selector
from devnet.rpc import Dispatcher

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import scale_names as sn  # noqa: E402
import synthetic_chain  # noqa: E402

N = 10  # covers verified (10), staked (7), AAAA and record-less names
SEED = "equivalence"
TX_GAS = 500_000
LOG_MASK = ("blockNumber", "blockHash", "transactionHash", "transactionIndex", "logIndex")


def register_on_devnet(chain, i):
    """Name i registered on the devnet as the synthetic chain has it: from wallet
    (i - 1) % 3 of accounts 1-3, then verified and staked where tools/scale_names.py says."""
    wallets = chain.accounts[1:4]
    fee = int(chain.call_registry("verificationFee()"), 16)
    to = chain.registry_address
    h = sn.identity(SEED, i)[3]
    wallet = wallets[(i - 1) % len(wallets)]
    data = selector("registerNode(bytes32,string)") + abi.encode_bytes32_string(h, sn.name(i))
    chain.transact({"from": wallet, "to": to, "data": data, "gas": TX_GAS})
    if sn.verified(i):
        data = selector("verifyNode(bytes32)") + h.hex()
        chain.transact({"from": wallet, "to": to, "data": data, "value": fee, "gas": TX_GAS})
    if sn.stake(i):
        data = selector("addStake(bytes32)") + h.hex()
        chain.transact({"from": wallet, "to": to, "data": data, "value": sn.stake(i), "gas": TX_GAS})


class SyntheticChainEquivalenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chain = Chain()
        cls.chain.deploy()
        wallets = cls.chain.accounts[1:4]
        for i in range(1, N + 1):
            register_on_devnet(cls.chain, i)
        cls.devnet = Dispatcher(cls.chain)
        args = argparse.Namespace(
            names=N, seed=SEED, per_block=4, deploy_block=cls.chain.deploy_block, tail=2, block_time=0,
            contract=cls.chain.registry_address, lookup=cls.chain.lookup_address, owner=cls.chain.owner,
            wallets=",".join(wallets), hash_cache=None)
        cls.synthetic = synthetic_chain.SyntheticChain(args)

    def both(self, method, *params):
        answers = []
        for side in (self.devnet, self.synthetic):
            reply = side.handle({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
            self.assertIn("result", reply, "%s %r: %r" % (method, params, reply))
            answers.append(reply["result"])
        return answers

    def call(self, to, data, mask_word=None):
        devnet, synthetic = self.both("eth_call", {"to": to, "data": data}, "latest")
        if mask_word is not None:
            devnet, synthetic = (x[:2 + 64 * mask_word] + x[2 + 64 * (mask_word + 1):] for x in (devnet, synthetic))
        self.assertEqual(devnet, synthetic, "eth_call %s" % data[:10])

    def test_logs(self):
        filters = [
            {"address": self.chain.registry_address, "fromBlock": "0x0", "toBlock": "latest"},
            {"address": self.chain.registry_address, "fromBlock": "earliest", "toBlock": "latest",
             "topics": [["0x" + t.hex() for t in (synthetic_chain.TOPIC_REGISTERED, synthetic_chain.TOPIC_VERIFIED,
                                                  synthetic_chain.TOPIC_STAKE)]]},
            {"fromBlock": "0x0", "toBlock": "latest", "topics": [None, "0x" + sn.identity(SEED, 7)[3].hex()]},
            {"address": self.chain.lookup_address, "fromBlock": "0x0", "toBlock": "latest"},
        ]
        for f in filters:
            devnet, synthetic = self.both("eth_getLogs", f)
            masked = [[{k: v for k, v in log.items() if k not in LOG_MASK} for log in logs] for logs in (devnet, synthetic)]
            self.assertEqual(masked[0], masked[1], "eth_getLogs %r" % f)
        self.assertEqual(len(self.both("eth_getLogs", filters[0])[0]), N + 1 + 1)  # + one verify, one stake

    def test_resolve_and_nodes(self):
        registry, lookup = self.chain.registry_address, self.chain.lookup_address
        for text in [sn.name(i) for i in range(1, N + 2)] + ["nope.1bz", "N0000001.1bz", ""]:
            self.call(registry, selector("resolveDNS(string)") + abi.encode_string(text))
            self.call(registry, selector("dnsToNode(string)") + abi.encode_string(text))
            self.call(lookup, selector("lookup(string)") + abi.encode_string(text), mask_word=5)
        for i in range(1, N + 2):
            self.call(registry, selector("nodes(bytes32)") + sn.identity(SEED, i)[3].hex(), mask_word=4)
        self.call(registry, selector("verificationFee()"))
        self.call(registry, selector("owner()"))

    def test_head_and_chain_id(self):
        self.assertEqual(*self.both("eth_chainId"))
        head = self.synthetic.head()
        for n in range(1, head + 1):  # a chain: each header names its parent's hash
            self.assertEqual(self.synthetic.block_json(n)["parentHash"], self.synthetic.block_json(n - 1)["hash"])
        for tag in ("latest", "safe", "finalized"):
            reply = self.synthetic.handle({"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": [tag, False]})
            self.assertEqual(reply["result"]["number"], hex(head))

    def test_registered_at_is_the_registration_blocks_timestamp(self):
        """onebzd's bulk cold start takes registeredAt from the header of the block its
        NodeRegistered log names (a batch of eth_getBlockByNumber): both chains agree with
        nodes() on that, name by name."""
        registry = self.chain.registry_address
        for side in (self.devnet, self.synthetic):
            def rpc(method, *params):
                reply = side.handle({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
                self.assertIn("result", reply, "%s %r: %r" % (method, params, reply))
                return reply["result"]
            logs = rpc("eth_getLogs", {"address": registry, "fromBlock": "0x0", "toBlock": "latest",
                                       "topics": ["0x" + synthetic_chain.TOPIC_REGISTERED.hex()]})
            self.assertEqual(len(logs), N)
            for log in logs:
                header = rpc("eth_getBlockByNumber", log["blockNumber"], False)
                words = rpc("eth_call", {"to": registry, "data": selector("nodes(bytes32)") + log["topics"][1][2:]}, "latest")
                registered_at = int(words[2 + 64 * 4:2 + 64 * 5], 16)
                self.assertEqual(registered_at, int(header["timestamp"], 16), "%s: %r" % (side, log["topics"][1]))


class LateRegistrationTest(unittest.TestCase):
    """rig_registerName (the scale rig's registration at run time) registers name N + 1 in a
    new block after the head: the same events and eth_call answers as the devnet gives for
    the same registration made after the first N, the head moved to its block, nothing
    before it changed."""

    def test_registered_name_matches_the_devnet(self):
        chain = Chain()
        chain.deploy()
        wallets = chain.accounts[1:4]
        for i in range(1, N + 1):
            register_on_devnet(chain, i)
        devnet = Dispatcher(chain)
        args = argparse.Namespace(
            names=N, seed=SEED, per_block=4, deploy_block=chain.deploy_block, tail=2, block_time=0,
            contract=chain.registry_address, lookup=chain.lookup_address, owner=chain.owner,
            wallets=",".join(wallets), hash_cache=None)
        synthetic = synthetic_chain.SyntheticChain(args)

        def rpc(side, method, *params):
            reply = side.handle({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
            self.assertIn("result", reply, "%s %r: %r" % (method, params, reply))
            return reply["result"]

        everything = {"address": chain.registry_address, "fromBlock": "0x0", "toBlock": "latest"}
        logs_before = rpc(synthetic, "eth_getLogs", everything)
        head_before = synthetic.head()
        added = [rpc(synthetic, "rig_registerName") for _ in range(N + 1, 2 * N + 1)]  # 11..20: verified, staked, no record
        for i in range(N + 1, 2 * N + 1):
            register_on_devnet(chain, i)
        self.assertEqual([a["index"] for a in added], list(range(N + 1, 2 * N + 1)))
        self.assertEqual([a["block"] for a in added], list(range(head_before + 1, head_before + N + 1)))
        self.assertEqual(synthetic.head(), head_before + N)
        self.assertEqual([a["hasRecord"] for a in added], [sn.has_record(i) for i in range(N + 1, 2 * N + 1)])
        logs_after = rpc(synthetic, "eth_getLogs", everything)
        self.assertEqual(logs_after[:len(logs_before)], logs_before)
        masked = [[{k: v for k, v in log.items() if k not in LOG_MASK} for log in rpc(side, "eth_getLogs", everything)]
                  for side in (devnet, synthetic)]
        self.assertEqual(masked[0], masked[1])
        registry, lookup = chain.registry_address, chain.lookup_address

        def same(to, data, mask_word=None):
            a, b = (rpc(side, "eth_call", {"to": to, "data": data}, "latest") for side in (devnet, synthetic))
            if mask_word is not None:
                a, b = (x[:2 + 64 * mask_word] + x[2 + 64 * (mask_word + 1):] for x in (a, b))
            self.assertEqual(a, b, data[:10])
        for i in range(N + 1, 2 * N + 2):  # 2N + 1: not registered on either
            same(registry, selector("resolveDNS(string)") + abi.encode_string(sn.name(i)))
            same(lookup, selector("lookup(string)") + abi.encode_string(sn.name(i)), mask_word=5)
            same(registry, selector("nodes(bytes32)") + sn.identity(SEED, i)[3].hex(), mask_word=4)
        for a in added:  # registeredAt: the new block's timestamp
            header = rpc(synthetic, "eth_getBlockByNumber", hex(a["block"]), False)
            words = rpc(synthetic, "eth_call", {"to": registry, "data": selector("nodes(bytes32)") + a["nodeHash"][2:]},
                        "latest")
            self.assertEqual(int(words[2 + 64 * 4:2 + 64 * 5], 16), int(header["timestamp"], 16))
            self.assertEqual(header["parentHash"], rpc(synthetic, "eth_getBlockByNumber", hex(a["block"] - 1), False)["hash"])


if __name__ == "__main__":
    unittest.main()
