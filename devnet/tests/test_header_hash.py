"""eth_getBlockByNumber sends every header field: keccak256(rlp(fields)) of the JSON is the
block's hash, as py-evm computes it (ChainReader recomputes it to trust a stateRoot only
with its hash). Also checks the hand-copied mainnet headers the Swift tests use."""
import rlp
from eth_utils import keccak

from devnet.tests.test_rpc import DevnetTestCase

# Header order (Yellow Paper 4.3, then EIP-1559, 4895, 4844, 4788, 7685): written out here
# independently of Sources/ChainReader/BlockHeader+RLP.swift.
DATA, QUANTITY = "data", "quantity"
FIELDS = [
    ("parentHash", DATA), ("sha3Uncles", DATA), ("miner", DATA), ("stateRoot", DATA),
    ("transactionsRoot", DATA), ("receiptsRoot", DATA), ("logsBloom", DATA), ("difficulty", QUANTITY),
    ("number", QUANTITY), ("gasLimit", QUANTITY), ("gasUsed", QUANTITY), ("timestamp", QUANTITY),
    ("extraData", DATA), ("mixHash", DATA), ("nonce", DATA),
]
LATER = [
    ("baseFeePerGas", QUANTITY), ("withdrawalsRoot", DATA), ("blobGasUsed", QUANTITY),
    ("excessBlobGas", QUANTITY), ("parentBeaconBlockRoot", DATA), ("requestsHash", DATA),
]


def header_rlp(block: dict) -> bytes:
    items = []
    for key, kind in FIELDS + [f for f in LATER if f[0] in block]:
        text = block[key]
        items.append(int(text, 16) if kind == QUANTITY else bytes.fromhex(text[2:]))
    return rlp.encode(items)


# Ethereum mainnet block 20013090 (Cancun): copied from safe-global/safe-transaction-service,
# safe_transaction_service/history/tests/mocks/blocks.py (commit 57eee0f1), where its number
# was replaced by 2000 and extraData left out; the real number is the parent of the next
# mocked block (20013091) and extraData is the builder's tag. The hash proves both.
MAINNET_20013090 = {
    "parentHash": "0xb2b49c99cba41ed96ab53ff2b172cd867b7d6784fe8ca3c147d211529cde4482",
    "sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
    "miner": "0x4838b106fce9647bdf1e7877bf73ce8b0bad5f97",
    "stateRoot": "0x62a02785cda0dc514aee2019d96eaefaee29d40428971940e21965805aa5136d",
    "transactionsRoot": "0x6365226abe9c20b7754d2b71212edf4815dd6ae80f8e0086ce051f126cc5e478",
    "receiptsRoot": "0x52b0138ad6cd29a7b8eab45da3fdbf3ac8ac19b9ea4b0fa85effff7c730b6c83",
    "logsBloom": "0x906bcea33100b8441a4a0c5de35d59013308c3016c15ce661e9b0a186622e4714485c58587058601d718be14d7ba0d80be199318a800aefd47c7e06a0bad75262008cd48504b192bae365d0bce04e17e405c56db06fc3c988e020544d96c45d90e0f31684246873f3018d2178148ff757625f37115d0a724a81cee37c63b2210884dae5e07432398b1dc31431fea424644d36649e140ac5cea31e25d28b02ba8061e0d1c8bad6f320f7473ccaa12ceb844f9c63ac80fa005ecf30c4c01082278e192b20b60230782070e0dc26769d13636b0c413cd250594531735e26010e54d89ff6048ca0002b019ecbda696d1eb060d7dde60f3b2f4cb4e4182f885d137b1",
    "difficulty": "0x0", "number": hex(20013090), "gasLimit": hex(30000000), "gasUsed": hex(13875029),
    "timestamp": hex(1717439363), "extraData": "0x" + b"Titan (titanbuilder.xyz)".hex(),
    "mixHash": "0x221ee008a8c5aafb557a4654110c3aeb8ae9c3af0f5ff7271edc7c91b2d95e07",
    "nonce": "0x0000000000000000", "baseFeePerGas": hex(13726822059),
    "withdrawalsRoot": "0xb18681663754565d0a1b2ba18ee9519e184905f59dfc5edd846fa5909772e1df",
    "blobGasUsed": hex(393216), "excessBlobGas": hex(262144),
    "parentBeaconBlockRoot": "0x87c7c94ff2fdca52510b51b932364c1fae94cb20cc9657e6de84f19921745603",
    "hash": "0xb5f712d1c6eab970b927eac6e3f1704f297d4acfc860f2b243f61e1771aab3ff",
}

# Ethereum mainnet genesis (Frontier: the 15 legacy fields only), well-known constants.
MAINNET_GENESIS = {
    "parentHash": "0x" + "00" * 32,
    "sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
    "miner": "0x" + "00" * 20,
    "stateRoot": "0xd7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544",
    "transactionsRoot": "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
    "receiptsRoot": "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
    "logsBloom": "0x" + "00" * 256, "difficulty": hex(0x400000000), "number": "0x0", "gasLimit": hex(5000),
    "gasUsed": "0x0", "timestamp": "0x0",
    "extraData": "0x11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa",
    "mixHash": "0x" + "00" * 32, "nonce": "0x0000000000000042",
    "hash": "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3",
}


class HeaderHashTest(DevnetTestCase):
    def test_every_block_hashes_to_its_hash_as_py_evm_says(self):
        head = int(self.rpc("eth_blockNumber"), 16)
        self.assertGreater(head, 3)
        chain = self.chain.tester.backend.chain
        for number in range(head + 1):
            block = self.rpc("eth_getBlockByNumber", hex(number), False)
            self.assertIn("requestsHash", block)  # eth-tester runs Prague
            header = chain.get_canonical_block_header_by_number(number)
            self.assertEqual(header_rlp(block), rlp.encode(header), "block %d" % number)
            self.assertEqual("0x" + keccak(header_rlp(block)).hex(), block["hash"])
            self.assertEqual("0x" + header.hash.hex(), block["hash"])

    def test_another_state_root_does_not_hash_to_the_hash(self):
        block = self.rpc("eth_getBlockByNumber", "latest", False)
        block["stateRoot"] = "0x" + "44" * 32
        self.assertNotEqual("0x" + keccak(header_rlp(block)).hex(), block["hash"])

    def test_mainnet_headers(self):
        for block in (MAINNET_20013090, MAINNET_GENESIS):
            self.assertEqual("0x" + keccak(header_rlp(block)).hex(), block["hash"])
