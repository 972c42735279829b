"""Ethereum JSON-RPC over eth-tester: the methods onebz and its tests use.

Results use the standard wire format (0x-hex quantities without leading zeros, 0x-hex
data, camelCase keys), errors are standard JSON-RPC error objects:
  -32700 parse error, -32600 invalid request, -32601 method not found,
  -32602 invalid params, -32603 internal error,
  -32000 header not found (block beyond the head, as geth says it),
  -32005 limit exceeded (eth_getLogs range above --max-log-range, like public RPCs),
       3 execution reverted (eth_call / eth_estimateGas; data = the revert data).
"""


from eth_tester.exceptions import BlockNotFound, TransactionFailed, TransactionNotFound, ValidationError

from devnet import abi, proof

BLOCK_TAGS = ("latest", "earliest", "pending", "safe", "finalized")
DEFAULT_MAX_LOG_RANGE = 1000
DEFAULT_GAS = 3_000_000


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
        return {
            "number": quantity(block["number"]),
            "hash": block["hash"],
            "parentHash": block["parent_hash"],
            "timestamp": quantity(block["timestamp"]),
            "gasLimit": quantity(block["gas_limit"]),
            "gasUsed": quantity(block["gas_used"]),
            "miner": block["coinbase"],
            "stateRoot": block["state_root"],
            "transactionsRoot": block["transactions_root"],
            "receiptsRoot": block["receipts_root"],
            "logsBloom": "0x%0512x" % block["logs_bloom"] if isinstance(block["logs_bloom"], int) else block["logs_bloom"],
            "baseFeePerGas": quantity(block.get("base_fee_per_gas") or 0),
            "transactions": [t if isinstance(t, str) else t["hash"] for t in block["transactions"]],
        }

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
        if isinstance(reason, bytes):
            return RPCError(3, "execution reverted", "0x" + reason.hex())
        if reason:
            return RPCError(3, "execution reverted: %s" % reason, abi.error_string(str(reason)))
        return RPCError(3, "execution reverted", "0x")

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
        except ValidationError as e:
            raise invalid_params(str(e))

    def send_transaction(self, params):
        """Accounts are unlocked: the transaction is signed here and mined at once (one
        block per transaction). A reverting transaction is mined with status 0x0."""
        if not params:
            raise invalid_params("expected [transaction]")
        tx = self._tx(params[0])
        if "gas" not in tx:
            tx["gas"] = DEFAULT_GAS
        try:
            return self.tester.send_transaction(tx)
        except ValidationError as e:
            raise invalid_params(str(e))

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
        kwargs = {"from_block": start, "to_block": min(end, self._head())}  # geth clamps to the head
        address = f.get("address")
        if address is not None:
            addresses = address if isinstance(address, list) else [address]
            kwargs["address"] = [parse_data(a, "address") for a in addresses]
        topics = f.get("topics")
        if topics is not None:
            if not isinstance(topics, list):
                raise invalid_params("topics must be an array")
            kwargs["topics"] = [self._topic(t) for t in topics]
        logs = self.tester.get_logs(**kwargs)
        return [self._log_json(log) for log in logs]

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


