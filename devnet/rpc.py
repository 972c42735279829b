"""Ethereum JSON-RPC over eth-tester: the methods onebz and its tests use.

Results use the standard wire format (0x-hex quantities without leading zeros, 0x-hex
data, camelCase keys), errors are standard JSON-RPC error objects:
  -32700 parse error, -32600 invalid request, -32601 method not found,
  -32602 invalid params, -32603 internal error,
  -32000 header not found (block beyond the head, as geth says it),
  -32005 limit exceeded (eth_getLogs range above --max-log-range, like public RPCs),
       3 execution reverted (eth_call / eth_estimateGas; data = the revert data).
eth_sendRawTransaction refuses what a real node refuses before mining (wrong chain id,
nonce too low/high, insufficient funds for value + gas × max fee, fee below the base fee)
with -32000 and geth's wording; a transaction that reverts is mined with status 0x0.
"""


import ast

import rlp
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth.constants import BLANK_ROOT_HASH
from eth_tester.exceptions import BlockNotFound, TransactionFailed, TransactionNotFound, ValidationError
from eth_utils import keccak
from hexbytes import HexBytes

from devnet import abi, proof

BLOCK_TAGS = ("latest", "earliest", "pending", "safe", "finalized")
DEFAULT_MAX_LOG_RANGE = 1000
DEFAULT_GAS = 3_000_000
# What eth_maxPriorityFeePerGas suggests (1 gwei, like geth's default on a quiet chain).
SUGGESTED_TIP = 10**9


class RPCError(Exception):
    def __init__(self, code: int, message: str, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict:
        err = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err


def invalid_params(message: str) -> RPCError:
    return RPCError(-32602, "invalid params: " + message)


def quantity(value: int) -> str:
    return hex(value)


def parse_quantity(value, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.startswith("0x") and len(value) > 2:
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise invalid_params("%s must be a 0x-hex quantity, got %r" % (what, value))


def parse_data(value, what: str) -> str:
    if isinstance(value, str) and value.startswith("0x") and len(value) % 2 == 0:
        try:
            bytes.fromhex(value[2:])
            return value
        except ValueError:
            pass
    raise invalid_params("%s must be 0x-hex bytes, got %r" % (what, value))


class Dispatcher:
    """Maps JSON-RPC requests to eth-tester calls; thread-safe through `chain.lock`."""

    def __init__(self, chain, max_log_range: int = DEFAULT_MAX_LOG_RANGE):
        self.chain = chain
        self.tester = chain.tester
        self.max_log_range = max_log_range
        self._logs_by_block = {}  # block hash -> its logs (see _block_logs)
        self.methods = {
            "web3_clientVersion": lambda p: "1bz-devnet/eth-tester",
            "net_version": lambda p: str(self._chain_id()),
            "eth_chainId": lambda p: quantity(self._chain_id()),
            "eth_accounts": lambda p: list(self.chain.accounts),
            "eth_blockNumber": lambda p: quantity(self._head()),
            "eth_getBlockByNumber": self.get_block_by_number,
            "eth_getBlockByHash": self.get_block_by_hash,
            "eth_getCode": self.get_code,
            "eth_getBalance": self.get_balance,
            "eth_call": self.call,
            "eth_estimateGas": self.estimate_gas,
            "eth_sendTransaction": self.send_transaction,
            "eth_sendRawTransaction": self.send_raw_transaction,
            "eth_getTransactionCount": self.get_transaction_count,
            "eth_getTransactionByHash": self.get_transaction_by_hash,
            "eth_gasPrice": lambda p: quantity(self._base_fee() + SUGGESTED_TIP),
            "eth_maxPriorityFeePerGas": lambda p: quantity(SUGGESTED_TIP),
            "eth_feeHistory": self.fee_history,
            "eth_getTransactionReceipt": self.get_transaction_receipt,
            "eth_getLogs": self.get_logs,
            "eth_getProof": self.get_proof,
            "evm_mine": self.mine,
            "evm_snapshot": lambda p: quantity(self.tester.take_snapshot()),
            "evm_revert": self.revert,
        }

    # MARK: request handling

    def handle(self, request):
        """One request object or a batch (list) -> response object(s), or None for a
        notification (no id)."""
        if isinstance(request, list):
            if not request:
                return self._error(None, RPCError(-32600, "invalid request: empty batch"))
            responses = [r for r in (self._handle_one(item) for item in request) if r is not None]
            return responses or None
        return self._handle_one(request)

    def _handle_one(self, request):
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or not isinstance(
            request.get("method"), str
        ):
            return self._error(
                request.get("id") if isinstance(request, dict) else None,
                RPCError(-32600, "invalid request: need an object with jsonrpc \"2.0\" and a method"),
            )
        is_notification = "id" not in request
        request_id = request.get("id")
        params = request.get("params", [])
        if not isinstance(params, list):
            return self._error(request_id, invalid_params("params must be an array"))
        method = self.methods.get(request["method"])
        try:
            if method is None:
                raise RPCError(-32601, "the method %s does not exist/is not available" % request["method"])
            with self.chain.lock:
                result = method(params)
        except RPCError as e:
            return None if is_notification else self._error(request_id, e)
        except Exception as e:  # a bug or an eth-tester surprise: say what, keep serving
            return None if is_notification else self._error(
                request_id, RPCError(-32603, "internal error: %s: %s" % (type(e).__name__, e))
            )
        if is_notification:
            return None
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    @staticmethod
    def _error(request_id, error: RPCError) -> dict:
        return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}

    # MARK: helpers

    def _chain_id(self) -> int:
        return 131277322940537  # eth-tester's chain id (its transactions are signed for it)

    def _head(self) -> int:
        return self.tester.get_block_by_number("latest")["number"]

    def _block_number(self, param, what="block") -> int:
        """A block tag, a 0x-number or an EIP-1898 object -> a concrete block number."""
        if isinstance(param, dict):
            if "blockHash" in param:
                try:
                    return self.tester.get_block_by_hash(parse_data(param["blockHash"], "blockHash"))["number"]
                except BlockNotFound:
                    raise RPCError(-32000, "header not found")
            if "blockNumber" in param:
                param = param["blockNumber"]
        if param in ("latest", "safe", "finalized", "pending"):
            # Every block is final here: eth-tester mines on demand. "pending" is the
            # state a new transaction would see, which is the latest state.
            return self._head()
        if param == "earliest":
            return 0
        number = parse_quantity(param, what)
        if number > self._head():
            raise RPCError(-32000, "header not found")
        return number

    def _block_json(self, block: dict) -> dict:
        """Every header field, as geth names them, taken from py-evm's header (eth-tester's
        dict pads extraData), so that keccak(rlp(header)) of the JSON is the block hash
        (ChainReader checks it): the Yellow Paper's 15 fields plus those of the fork
        eth-tester runs (Prague: baseFeePerGas ... requestsHash)."""
        header = self.tester.backend.chain.get_block_header_by_hash(bytes.fromhex(block["hash"][2:]))

        def data(value: bytes) -> str:
            return "0x" + bytes(value).hex()

        out = {
            "number": quantity(header.block_number),
            "hash": data(header.hash),
            "parentHash": data(header.parent_hash),
            "sha3Uncles": data(header.uncles_hash),
            "miner": data(header.coinbase),
            "stateRoot": data(header.state_root),
            "transactionsRoot": data(header.transaction_root),
            "receiptsRoot": data(header.receipt_root),
            "logsBloom": "0x%0512x" % header.bloom,
            "difficulty": quantity(header.difficulty),
            "gasLimit": quantity(header.gas_limit),
            "gasUsed": quantity(header.gas_used),
            "timestamp": quantity(header.timestamp),
            "extraData": data(header.extra_data),
            "mixHash": data(header.mix_hash),
            "nonce": data(header.nonce),
            "size": quantity(block["size"]),
            "uncles": list(block.get("uncles") or []),
            "transactions": [t if isinstance(t, str) else t["hash"] for t in block["transactions"]],
        }
        # Later forks' fields, only when the header has them (as a node sends them).
        for attribute, name, kind in (
                ("base_fee_per_gas", "baseFeePerGas", quantity), ("withdrawals_root", "withdrawalsRoot", data),
                ("blob_gas_used", "blobGasUsed", quantity), ("excess_blob_gas", "excessBlobGas", quantity),
                ("parent_beacon_block_root", "parentBeaconBlockRoot", data), ("requests_hash", "requestsHash", data)):
            if hasattr(header, attribute):
                out[name] = kind(getattr(header, attribute))
        if hasattr(header, "withdrawals_root"):
            out["withdrawals"] = list(block.get("withdrawals") or [])
        return out

    def _tx(self, obj, require_from=True) -> dict:
        if not isinstance(obj, dict):
            raise invalid_params("transaction must be an object")
        tx = {}
        sender = obj.get("from") or (self.chain.owner if not require_from else None)
        if sender is None:
            raise invalid_params("transaction needs a from address (one of eth_accounts)")
        tx["from"] = parse_data(sender, "from")
        if obj.get("to"):
            tx["to"] = parse_data(obj["to"], "to")
        data = obj.get("input", obj.get("data"))
        if data is not None:
            tx["data"] = parse_data(data, "data")
        for key in ("value", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "nonce"):
            if obj.get(key) is not None:
                tx[{"gasPrice": "gas_price", "maxFeePerGas": "max_fee_per_gas",
                    "maxPriorityFeePerGas": "max_priority_fee_per_gas"}.get(key, key)] = parse_quantity(obj[key], key)
        return tx

    @staticmethod
    def _reverted(error: TransactionFailed) -> RPCError:
        reason = error.args[0] if error.args else ""
        if isinstance(reason, Exception) and reason.args and isinstance(reason.args[0], bytes):
            reason = reason.args[0]  # py-evm's Revert(data) wrapped in TransactionFailed
        if isinstance(reason, str) and reason.startswith(("b'", 'b"')):
            # py-evm hands over the revert data as the repr of a bytes object
            try:
                reason = ast.literal_eval(reason)
            except (ValueError, SyntaxError):
                pass
        if isinstance(reason, bytes):
            text = abi.decode_error_string(reason)
            message = "execution reverted: %s" % text if text is not None else "execution reverted"
            return RPCError(3, message, "0x" + reason.hex())
        if reason:
            return RPCError(3, "execution reverted: %s" % reason, abi.error_string(str(reason)))
        return RPCError(3, "execution reverted", "0x")

    def _base_fee(self) -> int:
        return self.tester.get_block_by_number("latest").get("base_fee_per_gas") or 0

    # MARK: methods

    def get_block_by_number(self, params):
        if not params:
            raise invalid_params("expected [block, fullTransactions]")
        try:
            number = self._block_number(params[0])
        except RPCError as e:
            if e.code == -32000:
                return None  # geth answers null for a block beyond the head
            raise
        return self._block_json(self.tester.get_block_by_number(number))

    def get_block_by_hash(self, params):
        if not params:
            raise invalid_params("expected [blockHash, fullTransactions]")
        try:
            return self._block_json(self.tester.get_block_by_hash(parse_data(params[0], "blockHash")))
        except BlockNotFound:
            return None

    def get_code(self, params):
        if not params:
            raise invalid_params("expected [address, block]")
        number = self._block_number(params[1] if len(params) > 1 else "latest")
        return self.tester.get_code(parse_data(params[0], "address"), number)

    def get_balance(self, params):
        if not params:
            raise invalid_params("expected [address, block]")
        number = self._block_number(params[1] if len(params) > 1 else "latest")
        return quantity(self.tester.get_balance(parse_data(params[0], "address"), number))

    def call(self, params):
        if not params:
            raise invalid_params("expected [transaction, block]")
        tx = self._tx(params[0], require_from=False)
        number = self._block_number(params[1] if len(params) > 1 else "latest")
        try:
            return self.tester.call(tx, number)
        except TransactionFailed as e:
            raise self._reverted(e)
        except ValidationError as e:
            raise invalid_params(str(e))

    def estimate_gas(self, params):
        if not params:
            raise invalid_params("expected [transaction]")
        tx = self._tx(params[0], require_from=False)
        number = self._block_number(params[1] if len(params) > 1 else "latest")
        try:
            return quantity(self.tester.estimate_gas(tx, number))
        except TransactionFailed as e:
            raise self._reverted(e)
        except Exception as e:
            if "afford" in str(e):  # py-evm's words for geth's "insufficient funds"
                raise RPCError(-32000, "insufficient funds for gas * price + value: %s" % e)
            if isinstance(e, ValidationError):
                raise invalid_params(str(e))
            raise

    def send_transaction(self, params):
        """Accounts are unlocked: the transaction is signed here and mined at once (one
        block per transaction). A reverting transaction is mined with status 0x0."""
        if not params:
            raise invalid_params("expected [transaction]")
        tx = self._tx(params[0])
        if "gas" not in tx:
            tx["gas"] = DEFAULT_GAS
        try:
            tx_hash = self.tester.send_transaction(tx)
        except ValidationError as e:
            raise invalid_params(str(e))
        self._block_logs(self._head())  # built now, while the sender waits anyway
        return tx_hash

    def send_raw_transaction(self, params):
        """A transaction signed elsewhere (onebz): checked as a node checks it before it
        enters the pool, then mined at once."""
        if not params:
            raise invalid_params("expected [signedTransactionData]")
        raw = parse_data(params[0], "signedTransactionData")
        data = bytes.fromhex(raw[2:])
        try:
            sender = Account.recover_transaction(raw)
            fields = self._decode_raw(data)
        except Exception as e:
            raise RPCError(-32000, "invalid transaction: %s" % e)
        if fields["chain_id"] is not None and fields["chain_id"] != self._chain_id():
            raise RPCError(-32000, "invalid chain id for signer: have %d want %d" % (fields["chain_id"], self._chain_id()))
        if fields["chain_id"] is None:
            raise RPCError(-32000, "only replay-protected (EIP-155) transactions allowed over RPC")
        nonce = self.tester.get_nonce(sender)
        if fields["nonce"] < nonce:
            raise RPCError(-32000, "nonce too low: address %s, tx: %d state: %d" % (sender, fields["nonce"], nonce))
        if fields["nonce"] > nonce:
            raise RPCError(-32000, "nonce too high: address %s, tx: %d state: %d (no transaction pool here)"
                           % (sender, fields["nonce"], nonce))
        base_fee = self._base_fee()
        if fields["max_fee"] < base_fee:
            raise RPCError(-32000, "max fee per gas less than block base fee: address %s, maxFeePerGas: %d, baseFee: %d"
                           % (sender, fields["max_fee"], base_fee))
        cost = fields["value"] + fields["gas"] * fields["max_fee"]
        balance = self.tester.get_balance(sender)
        if balance < cost:
            raise RPCError(-32000, "insufficient funds for gas * price + value: address %s have %d want %d"
                           % (sender, balance, cost))
        try:
            tx_hash = self.tester.send_raw_transaction(raw)
            self._block_logs(self._head())  # built now, while the sender waits anyway
            return tx_hash
        except TransactionFailed:
            # eth-tester raises for a reverting transaction; a real chain mines it with
            # status 0. The revert reason is found by replaying it (eth_call).
            return "0x" + keccak(data).hex()
        except ValidationError as e:
            raise RPCError(-32000, "invalid transaction: %s" % e)

    @staticmethod
    def _decode_raw(data: bytes) -> dict:
        if data[0] == 0x02 or data[0] == 0x01:
            tx = TypedTransaction.from_bytes(HexBytes(data)).as_dict()
            max_fee = tx.get("maxFeePerGas", tx.get("gasPrice"))
            return {"chain_id": tx["chainId"], "nonce": tx["nonce"], "gas": tx["gas"], "value": tx["value"],
                    "max_fee": max_fee}
        items = rlp.decode(data)
        nonce, gas_price, gas, _to, value, _data, v = (int.from_bytes(x, "big") if i != 3 and i != 5 else x
                                                        for i, x in enumerate(items[:7]))
        chain_id = (v - 35) // 2 if v >= 35 else None
        return {"chain_id": chain_id, "nonce": nonce, "gas": gas, "value": value, "max_fee": gas_price}

    def get_transaction_count(self, params):
        if not params:
            raise invalid_params("expected [address, block]")
        number = self._block_number(params[1] if len(params) > 1 else "latest")
        return quantity(self.tester.get_nonce(parse_data(params[0], "address"), number))

    def get_transaction_by_hash(self, params):
        if not params:
            raise invalid_params("expected [transactionHash]")
        try:
            t = self.tester.get_transaction_by_hash(parse_data(params[0], "transactionHash"))
        except TransactionNotFound:
            return None
        out = {"hash": t["hash"], "from": t["from"], "to": t["to"] or None, "nonce": quantity(t["nonce"]),
               "gas": quantity(t["gas"]), "value": quantity(t["value"]), "input": t["data"],
               "blockNumber": quantity(t["block_number"]) if t.get("block_number") is not None else None,
               "blockHash": t.get("block_hash"), "chainId": quantity(t.get("chain_id") or self._chain_id()),
               "type": quantity(t.get("type", 0)) if isinstance(t.get("type"), int) else t.get("type", "0x0")}
        for key, name in (("gas_price", "gasPrice"), ("max_fee_per_gas", "maxFeePerGas"),
                          ("max_priority_fee_per_gas", "maxPriorityFeePerGas")):
            if t.get(key) is not None:
                out[name] = quantity(t[key])
        return out

    def fee_history(self, params):
        if len(params) < 2:
            raise invalid_params("expected [blockCount, newestBlock, rewardPercentiles]")
        count = parse_quantity(params[0], "blockCount") if isinstance(params[0], str) else int(params[0])
        newest = self._block_number(params[1], "newestBlock")
        percentiles = params[2] if len(params) > 2 and isinstance(params[2], list) else []
        count = max(1, min(count, 1024, newest + 1))
        oldest = newest - count + 1
        blocks = [self.tester.get_block_by_number(n) for n in range(oldest, newest + 1)]
        base = [b.get("base_fee_per_gas") or 0 for b in blocks]
        base.append(base[-1])  # the next block's base fee: unchanged on an idle chain
        out = {"oldestBlock": quantity(oldest), "baseFeePerGas": [quantity(x) for x in base],
               "gasUsedRatio": [b["gas_used"] / b["gas_limit"] if b["gas_limit"] else 0 for b in blocks]}
        if percentiles:
            out["reward"] = [[quantity(SUGGESTED_TIP) for _ in percentiles] for _ in blocks]
        return out

    def get_transaction_receipt(self, params):
        if not params:
            raise invalid_params("expected [transactionHash]")
        try:
            r = self.tester.get_transaction_receipt(parse_data(params[0], "transactionHash"))
        except TransactionNotFound:
            return None
        if r["block_number"] is None:
            return None
        return {
            "transactionHash": r["transaction_hash"],
            "transactionIndex": quantity(r["transaction_index"]),
            "blockHash": r["block_hash"],
            "blockNumber": quantity(r["block_number"]),
            "from": r["from"],
            "to": r["to"] or None,
            "contractAddress": r["contract_address"],
            "cumulativeGasUsed": quantity(r["cumulative_gas_used"]),
            "gasUsed": quantity(r["gas_used"]),
            "effectiveGasPrice": quantity(r["effective_gas_price"]),
            "status": quantity(r["status"]),
            "type": r.get("type", "0x2"),
            "logs": [self._log_json(log) for log in r["logs"]],
        }

    def _log_json(self, log: dict) -> dict:
        return {
            "address": log["address"],
            "topics": list(log["topics"]),
            "data": log["data"],
            "blockNumber": quantity(log["block_number"]),
            "blockHash": log["block_hash"],
            "transactionHash": log["transaction_hash"],
            "transactionIndex": quantity(log["transaction_index"]),
            "logIndex": quantity(log["log_index"]),
            "removed": False,
        }

    def get_logs(self, params):
        if not params or not isinstance(params[0], dict):
            raise invalid_params("expected [filter object]")
        f = params[0]
        if "blockHash" in f:
            start = end = self._block_number({"blockHash": f["blockHash"]})
        else:
            head = self._head()
            start = self._block_number(f.get("fromBlock", "latest"), "fromBlock")
            to_param = f.get("toBlock", "latest")
            if isinstance(to_param, str) and to_param not in BLOCK_TAGS:
                end = parse_quantity(to_param, "toBlock")  # beyond the head: clamped below
            else:
                end = self._block_number(to_param, "toBlock")
        if start > end:
            raise invalid_params("fromBlock %d is after toBlock %d" % (start, end))
        span = end - start + 1  # the range asked for counts, as on public RPCs
        if span > self.max_log_range:
            raise RPCError(
                -32005,
                "block range too large: %d blocks requested (%d..%d), the limit is %d"
                % (span, start, end, self.max_log_range),
                {"limit": self.max_log_range},
            )
        address = f.get("address")
        addresses = None
        if address is not None:
            addresses = {parse_data(a, "address").lower() for a in (address if isinstance(address, list) else [address])}
        topics = f.get("topics")
        if topics is not None and not isinstance(topics, list):
            raise invalid_params("topics must be an array")
        topics = [self._topic(t) for t in topics or []]
        out = []
        for number in range(start, min(end, self._head()) + 1):  # geth clamps to the head
            out += [self._log_json(log) for log in self._block_logs(number) if self._matches(log, addresses, topics)]
        return out

    def _block_logs(self, number):
        """The logs of canonical block `number`. eth-tester builds each receipt in ~50 ms,
        so a range over 150 registrations took 8 s (longer than any client's timeout, with
        every other request waiting behind it on the chain lock): each block's logs are
        built once and kept by block hash, which a revert to a snapshot changes."""
        header = self.tester.backend.chain.get_canonical_block_header_by_number(number)
        if header.transaction_root == BLANK_ROOT_HASH:
            return ()
        logs = self._logs_by_block.get(header.hash)
        if logs is None:
            logs = self._logs_by_block[header.hash] = tuple(self.tester.get_logs(from_block=number, to_block=number))
        return logs

    @staticmethod
    def _matches(log, addresses, topics):
        """eth_getLogs filter semantics: an address in the set; per position, null (any),
        one topic, or a list of topics one of which must be there."""
        if addresses is not None and log["address"].lower() not in addresses:
            return False
        have = [t.lower() for t in log["topics"]]
        for position, want in enumerate(topics):
            if want is None or want == []:
                continue
            if position >= len(have):
                return False
            options = want if isinstance(want, list) else [want]
            if have[position] not in {w.lower() for w in options}:
                return False
        return True

    def get_proof(self, params):
        """EIP-1186: [address, [storage keys], block] -> account and storage proofs at
        that block's stateRoot (devnet/proof.py)."""
        if len(params) < 2 or not isinstance(params[1], list):
            raise invalid_params("expected [address, [storageKeys], block]")
        address = bytes.fromhex(parse_data(params[0], "address")[2:])
        if len(address) != 20:
            raise invalid_params("address must be 20 bytes")
        slots = []
        for key in params[1]:
            raw = bytes.fromhex(parse_data(key, "storage key")[2:]) if isinstance(key, str) and len(key) % 2 == 0 \
                else parse_quantity(key, "storage key").to_bytes(32, "big")
            if len(raw) > 32:
                raise invalid_params("storage key longer than 32 bytes")
            slots.append(int.from_bytes(raw, "big"))
        number = self._block_number(params[2] if len(params) > 2 else "latest")
        chain = self.tester.backend.chain
        header = chain.get_canonical_block_header_by_number(number)
        return proof.get_proof(chain.chaindb.db, header.state_root, address, slots)

    @staticmethod
    def _topic(t):
        if t is None:
            return None
        if isinstance(t, list):
            return [parse_data(x, "topic") for x in t]
        return parse_data(t, "topic")

    def mine(self, params):
        count = parse_quantity(params[0], "count") if params and not isinstance(params[0], dict) else 1
        self.tester.mine_blocks(count)
        return "0x0"

    def revert(self, params):
        if not params:
            raise invalid_params("expected [snapshotId]")
        snapshot = parse_quantity(params[0], "snapshotId")
        try:
            self.tester.revert_to_snapshot(snapshot)
        except (ValidationError, Exception) as e:
            raise RPCError(-32000, "cannot revert to snapshot %d: %s" % (snapshot, e))
        return True


