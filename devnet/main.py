"""`python -m devnet --port 8545 --state-dir DIR [--sample] [--mine-interval N]`
(normally through scripts/devnet). Binds the port first (a clear error if it is taken),
deploys the contracts, optionally registers the sample nodes, then writes
DIR/devnet.pid and, last, DIR/devnet.json: its appearance means "ready".
"""
import argparse
import errno
import json
import os
import signal
import sys
import threading

from eth_account import Account

from devnet.chain import Chain
from devnet.rpc import DEFAULT_MAX_LOG_RANGE, Dispatcher
from devnet.sample import register_samples, write_json_atomic
from devnet.server import RPCServer


def parse_args(argv):
    p = argparse.ArgumentParser(prog="scripts/devnet", description="1bz devnet: JSON-RPC over eth-tester")
    p.add_argument("--port", type=int, default=8545)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--state-dir", required=True, help="where devnet.json, sample-nodes.json, keys and the pid file go")
    p.add_argument("--sample", action="store_true", help="register the sample nodes (shashi.1bz, acme.1bz, bob.1bz)")
    p.add_argument("--mine-interval", type=float, default=0, metavar="N", help="also mine an empty block every N seconds")
    p.add_argument("--exit-with-parent", type=int, default=0, metavar="PID",
                   help="stop when process PID is gone (tests pass their own PID so a crash leaks nothing)")
    p.add_argument("--max-log-range", type=int, default=DEFAULT_MAX_LOG_RANGE,
                   help="largest eth_getLogs block range (public Polygon RPCs cap it too); default %(default)s")
    return p.parse_args(argv)


DEV_WALLET_FUNDS = 1000 * 10**18


def fund_dev_wallet(chain: Chain, state_dir: str) -> str:
    """A fresh secp256k1 account, funded with 1000 ether from the owner, its key written
    to DIR/dev-wallet.key (0x + 64 hex, mode 0600): the wallet an operator's tools
    (onebz register/verify-onchain/stake) sign with on the devnet. Unlike eth-tester's
    own accounts it is not unlocked here: only its key can spend from it."""
    account = Account.create()
    chain.transact({"from": chain.owner, "to": account.address, "value": DEV_WALLET_FUNDS, "gas": 21000})
    path = os.path.join(state_dir, "dev-wallet.key")
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("0x" + account.key.hex().removeprefix("0x") + "\n")
    os.replace(path + ".tmp", path)
    return account.address


def fail(message: str, status: int = 2) -> int:
    print("devnet: error: " + message, file=sys.stderr)
    return status


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    for stale in ("devnet.json", "sample-nodes.json"):
        if os.path.exists(os.path.join(state_dir, stale)):
            os.remove(os.path.join(state_dir, stale))

    chain = Chain()
    dispatcher = Dispatcher(chain, max_log_range=args.max_log_range)
    try:
        server = RPCServer((args.host, args.port), dispatcher)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            return fail("port %d on %s is already in use (another devnet? its PID is in its state dir's "
                        "devnet.pid; or pick another --port)" % (args.port, args.host))
        return fail("cannot listen on %s:%d: %s" % (args.host, args.port, e))
    port = server.server_address[1]

    chain.deploy()
    if args.sample:
        register_samples(chain, state_dir)
    dev_wallet = fund_dev_wallet(chain, state_dir)

    pid_path = os.path.join(state_dir, "devnet.pid")
    with open(pid_path, "w") as f:
        f.write("%d\n" % os.getpid())
    abi_dir = os.path.join(state_dir, "abi")
    os.makedirs(abi_dir, exist_ok=True)
    write_json_atomic(os.path.join(abi_dir, "BizNodeRegistry.json"), chain.registry.abi)
    write_json_atomic(os.path.join(abi_dir, "BizNodeLookup.json"), chain.lookup.abi)
    info = {
        "rpc_url": "http://%s:%d" % (args.host, port),
        "contract_address": chain.registry_address,
        "chain_id": dispatcher._chain_id(),
        "deploy_block": chain.deploy_block,
        "lookup_address": chain.lookup_address,
        "owner": chain.owner,
        "accounts": list(chain.accounts[:10]),
        "pid": os.getpid(),
        "max_log_range": args.max_log_range,
        "dev_wallet": dev_wallet,
        "dev_wallet_key_path": os.path.join(state_dir, "dev-wallet.key"),
    }

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.mine_interval > 0:
        def miner():
            while not stop.wait(args.mine_interval):
                with chain.lock:
                    chain.tester.mine_blocks(1)
        threading.Thread(target=miner, daemon=True, name="miner").start()

    if args.exit_with_parent > 0:
        def watch_parent():
            while not stop.wait(0.5):
                try:
                    os.kill(args.exit_with_parent, 0)
                except ProcessLookupError:
                    on_signal(signal.SIGTERM, None)
                    return
                except PermissionError:
                    pass
        threading.Thread(target=watch_parent, daemon=True, name="parent-watch").start()

    write_json_atomic(os.path.join(state_dir, "devnet.json"), info)
    print("devnet: ready on %s (registry %s, lookup %s, deploy block %d%s)" % (
        info["rpc_url"], chain.registry_address, chain.lookup_address, chain.deploy_block,
        ", sample nodes in sample-nodes.json" if args.sample else ""), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        for path in (pid_path, os.path.join(state_dir, "devnet.json")):
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
    print("devnet: stopped", flush=True)
    return 0
