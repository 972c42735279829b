"""The chain: an eth-tester (py-evm) instance, the compiled contracts, deployment.

eth-tester is not thread-safe, so every use goes through `Chain.lock` (the RPC server
serves many connections at once and the optional miner thread mines in between).
"""
import os
import threading
from dataclasses import dataclass

import vyper
from eth_tester import EthereumTester, PyEVMBackend
from eth_utils import keccak

# Polygon PoS accepts "shanghai" (PUSH0) today, but "paris" deploys on every EVM chain
# the registry may meet, and costs nothing here.
EVM_VERSION = "paris"
CONTRACTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "contracts")
DEPLOY_GAS = 3_000_000


@dataclass(frozen=True)
class Compiled:
    name: str
    abi: list
    bytecode: str


def compile_contract(name: str) -> Compiled:
    """Compiles contracts/<name>.vy in-process with an explicit EVM version."""
    with open(os.path.join(CONTRACTS_DIR, name + ".vy")) as f:
        source = f.read()
    out = vyper.compile_code(
        source,
        output_formats=["abi", "bytecode"],
        settings=vyper.compiler.settings.Settings(evm_version=EVM_VERSION),
    )
    return Compiled(name=name, abi=out["abi"], bytecode=out["bytecode"])


def selector(signature: str) -> str:
    """0x-hex of the first 4 bytes of keccak256(signature)."""
    return "0x" + keccak(text=signature)[:4].hex()


def abi_signature(entry: dict) -> str:
    """`name(type,...)` of an ABI JSON entry (no tuples in our contracts)."""
    return "%s(%s)" % (entry["name"], ",".join(i["type"] for i in entry["inputs"]))


class Chain:
    """eth-tester plus the deployed registry and lookup helper."""

    def __init__(self):
        self.lock = threading.RLock()
        self.tester = EthereumTester(backend=PyEVMBackend())
        self.accounts = self.tester.get_accounts()
        self.owner = self.accounts[0]
        self.registry = None  # Compiled
        self.lookup = None  # Compiled
        self.registry_address = None
        self.lookup_address = None
        self.deploy_block = None

    def deploy(self):
        """Compiles and deploys BizNodeRegistry and BizNodeLookup (from account 0)."""
        self.registry = compile_contract("BizNodeRegistry")
        self.lookup = compile_contract("BizNodeLookup")
        with self.lock:
            receipt = self._transact({"from": self.owner, "data": self.registry.bytecode, "gas": DEPLOY_GAS})
            self.registry_address = receipt["contract_address"]
            self.deploy_block = receipt["block_number"]
            ctor_arg = bytes(12) + bytes.fromhex(self.registry_address[2:])
            receipt = self._transact(
                {"from": self.owner, "data": self.lookup.bytecode + ctor_arg.hex(), "gas": DEPLOY_GAS}
            )
            self.lookup_address = receipt["contract_address"]

    def transact(self, tx: dict) -> dict:
        """Sends a transaction (auto-mined) and returns its receipt; raises on revert."""
        with self.lock:
            return self._transact(tx)

    def _transact(self, tx: dict) -> dict:
        tx_hash = self.tester.send_transaction(tx)
        receipt = self.tester.get_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise RuntimeError("transaction reverted: %r" % (tx,))
        return receipt

    def call_registry(self, signature: str, args_hex: str = "") -> str:
        with self.lock:
            return self.tester.call(
                {"from": self.owner, "to": self.registry_address, "data": selector(signature) + args_hex},
                "latest",
            )


def node_hash(node_id: str) -> bytes:
    """nodeHash = keccak256(ASCII bytes of the 64-hex node id) (DESIGN.md, Identity)."""
    return keccak(node_id.encode("ascii"))
