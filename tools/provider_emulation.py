"""Provider emulation (scripts/provider-emulation): onebzd in proof mode follows a devnet
through three fault proxies (tools/faultproxy.py, the only fake), each with another
provider profile (capped, results, public), while the devnet makes a block every 2 s
and this driver registers and verifies names and makes a 3-block reorg. Every few
seconds the answers are checked against the devnet's truth; at the end the zone must
hold exactly the names of the final chain. Prints requests per minute per endpoint.

    .venv-devnet/bin/python tools/provider_emulation.py --minutes 10 [--onebzd PATH]

Exit status 0 when every check passed. Only 127.0.0.1; every process it starts is
stopped by its PID.
"""
import argparse
import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROFILES = ["capped", "results", "public"]


class PortBlock:
    """Ports for this run as the Swift tests take theirs (Tests/TestSupport/FreePort.swift):
    a block of 400 below the kernel's ephemeral range (no outgoing connection takes one
    between picking and binding), claimed by an flock on /tmp/onebz-test-ports/block-N.lock
    held until this process exits, so that runs and test processes side by side never
    share a port; each port is checked free for TCP and UDP. Without a block: the kernel's."""
    SIZE = 400
    LOCKS = "/tmp/onebz-test-ports"

    def __init__(self):
        self.first, self.offset, self.fd = None, 0, None
        low, high = 32768, 60999
        try:
            low, high = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
        except (OSError, ValueError):
            pass
        below, above = range(10000, max(10000, low)), range(max(10000, high + 1), 65536)
        span = below if len(below) >= len(above) else above
        blocks = len(span) // self.SIZE
        if blocks == 0:
            return
        os.makedirs(self.LOCKS, exist_ok=True)
        for step in range(blocks):
            index = (os.getpid() + step) % blocks
            fd = os.open(f"{self.LOCKS}/block-{index}.lock", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.first, self.fd = span.start + index * self.SIZE, fd
            return

    def next(self):
        for _ in range(self.SIZE if self.first is not None else 0):
            port = self.first + self.offset
            self.offset = (self.offset + 1) % self.SIZE
            if bindable(socket.SOCK_STREAM, port) and bindable(socket.SOCK_DGRAM, port):
                return port
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


def bindable(kind, port):
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


PORTS = None


def free_port():
    global PORTS
    if PORTS is None:
        PORTS = PortBlock()
    return PORTS.next()


def rpc(port, method, *params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def word(value):
    return "%064x" % value


def register_call(node_hash, name):
    data = name.encode()
    padded = data + b"\0" * (-len(data) % 32)
    return "0x54111bbc" + node_hash[2:] + word(64) + word(len(data)) + padded.hex()


def dig_status(port, name, qtype="TXT"):
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+norec", "+time=5", "+tries=1", name, qtype],
                         capture_output=True, text=True).stdout
    m = re.search(r"status: (\w+)", out)
    return m.group(1) if m else "TIMEOUT"


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit(f"provider-emulation: {what} not within {timeout} s")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--onebzd", default=os.path.join(TOP, ".build", "debug", "onebzd"))
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    p.add_argument("--servfail-streak", type=int, default=2,
                   help="SERVFAILs in a row for one name (4 s apart) that count as a failure; SERVFAIL is never a "
                        "wrong answer, but a long streak is an outage (default 2)")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="provider-emulation-")
    processes = []

    def start(name, argv, **kw):
        log = open(os.path.join(work, name + ".log"), "w")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=TOP, **kw)
        processes.append(proc)
        return proc

    failures = []
    try:
        devnet_port = free_port()
        start("devnet", [os.path.join(TOP, "scripts", "devnet"), "--port", str(devnet_port), "--state-dir",
                         os.path.join(work, "devnet"), "--sample", "--mine-interval", "2",
                         "--exit-with-parent", str(os.getpid())])
        info_path = os.path.join(work, "devnet", "devnet.json")
        wait_for(lambda: os.path.exists(info_path), 120, "the devnet")
        info = json.load(open(info_path))
        proxies = []
        for profile in PROFILES:
            port = free_port()
            stats = os.path.join(work, f"{profile}-stats.json")
            start(f"proxy-{profile}", [sys.executable, os.path.join(TOP, "tools", "faultproxy.py"), "--listen",
                                       f"127.0.0.1:{port}", "--target", f"127.0.0.1:{devnet_port}", "--stats", stats,
                                       "--profile", profile])
            proxies.append((profile, port, stats))
        for _, port, _ in proxies:
            wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None, 20, "the proxy")
        # 300 blocks before onebzd starts: its first ranges pass the providers' caps.
        rpc(devnet_port, "evm_mine", 300)
        dns_port, http_port = free_port(), free_port()
        config = os.path.join(work, "onebzd.toml")
        with open(config, "w") as f:
            f.write(f"""[chain]
network = "devnet"
rpc_urls = [{", ".join('"http://127.0.0.1:%d"' % port for _, port, _ in proxies)}]
contract = "{info['contract_address']}"
deploy_block = {info['deploy_block']}
verify = "proof"
storage_layout = "vyper"
requests_per_second = 8
timeout = "2s"

[ttl]
positive = 5
stale = 1
""")
        onebzd = start("onebzd", [args.onebzd, "--config", config, "--zone", os.path.join(TOP, "zones", "1bz.zone"),
                                  "--listen", f"127.0.0.1:{dns_port}", "--http", f"127.0.0.1:{http_port}"])
        wait_for(lambda: dig_status(dns_port, "shashi.1bz") == "NOERROR", 90, "onebzd answering shashi.1bz")
        started = time.monotonic()
        account = info["accounts"][5]
        contract = info["contract_address"]
        truth, gone, checks = {}, set(), 0
        servfail = {}  # name -> SERVFAILs in a row (one is transient: a reorg being noticed)
        transient = 0

        def register(name):
            node_hash = "0x" + os.urandom(32).hex()
            rpc(devnet_port, "eth_sendTransaction",
                {"from": account, "to": contract, "data": register_call(node_hash, name), "gas": hex(500000)})
            return node_hash

        def verify(node_hash):
            rpc(devnet_port, "eth_sendTransaction", {"from": account, "to": contract, "gas": hex(500000),
                                                     "data": "0xc8cc2aee" + node_hash[2:], "value": hex(10 * 10**18)})

        n = 0
        reorged = False
        end = started + args.minutes * 60
        while time.monotonic() < end:
            name = f"emu{n}.1bz"
            truth[name] = register(name)
            if n % 5 == 4:
                verify(truth[name])
            n += 1
            if not reorged and time.monotonic() > started + args.minutes * 30:
                # A 3-block reorg: three registrations seen by onebzd, then replaced.
                snapshot = rpc(devnet_port, "evm_snapshot")
                doomed = [f"fork{i}.1bz" for i in range(3)]
                for name in doomed:
                    register(name)
                wait_for(lambda: dig_status(dns_port, doomed[-1]) == "NOERROR", 60, "the fork's names")
                rpc(devnet_port, "evm_revert", snapshot)
                for i in range(4):
                    name = f"emu{n}.1bz"
                    truth[name] = register(name)
                    n += 1
                gone.update(doomed)
                reorged = True
            # Names registered more than 20 s ago must answer; a sample of them each round.
            time.sleep(4)
            for name in list(truth)[-8:-5] + sorted(gone):
                status = dig_status(dns_port, name)
                checks += 1
                want = "NXDOMAIN" if name in gone else "NOERROR"
                if name in gone and status == "NOERROR":
                    continue  # the reorg may not be seen yet; checked at the end
                if status == "SERVFAIL":
                    servfail[name] = servfail.get(name, 0) + 1
                    transient += 1
                    if servfail[name] == args.servfail_streak:
                        failures.append(f"{name}: SERVFAIL {servfail[name]} times in a row")
                    continue
                servfail[name] = 0
                if status != want:
                    failures.append(f"{name}: {status}, want {want}")
        elapsed_min = (time.monotonic() - started) / 60
        time.sleep(8)
        for name in truth:
            status = dig_status(dns_port, name)
            checks += 1
            for _ in range(5):  # a SERVFAIL may be a rate-limited endpoint: asked again, 2 s apart
                if status != "SERVFAIL":
                    break
                time.sleep(2)
                status = dig_status(dns_port, name)
                transient += 1
            if status != "NOERROR":
                failures.append(f"final: {name}: {status}")
        for name in gone:
            status = dig_status(dns_port, name)
            checks += 1
            if status != "NXDOMAIN":
                failures.append(f"final: {name} (reorged out): {status}")
        if onebzd.poll() is not None:
            failures.append(f"onebzd exited with {onebzd.returncode}")
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10).read().decode()
        head = int(rpc(devnet_port, "eth_blockNumber"), 16)
        print(f"provider-emulation: {elapsed_min:.1f} min, {n} registrations ({n // 5} verified), 1 reorg of 3 "
              f"blocks, chain head {head}, {checks} DNS checks ({transient} transient SERVFAIL), {len(failures)} failures")
        print("%-8s %10s %10s %8s %8s %8s %8s %8s" % ("profile", "req/min", "calls/min", "limited", "range",
                                                      "results", "batch", "slow"))
        for profile, port, stats_path in proxies:
            stats = json.load(open(stats_path))
            calls = sum(v for k, v in stats.items() if k.startswith("eth_") or k.startswith("net_"))
            print("%-8s %10.1f %10.1f %8d %8d %8d %8d %8d" % (
                profile, stats.get("http_requests", 0) / elapsed_min, calls / elapsed_min, stats.get("limited", 0),
                stats.get("range_refused", 0), stats.get("results_refused", 0), stats.get("batch_refused", 0),
                stats.get("slow", 0)))
            methods = {k: round(v / elapsed_min, 1) for k, v in sorted(stats.items()) if k.startswith("eth_")}
            print("         per method /min:", methods)
        status = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{http_port}/status/chain", timeout=10).read())
        print("onebzd's view (/status/chain), answers from block", status.get("head"))
        for (profile, _, _), e in zip(proxies, status["endpoints"]):
            errors = " ".join(f"{k}={v}" for k, v in sorted(e["errors"].items())) or "-"
            print(f"  {profile:8} height {e.get('height')} lag {e.get('lag')} req/min {e['requestsPerMinute']} "
                  f"budget {e.get('requestsPerSecond')}/s 429s {e['rateLimited']} batch {e['batchSize']} "
                  f"chain id {e['chainID']} errors {errors}")
        for line in metrics.splitlines():
            if line.startswith(("onebz_chain_rpc_", "onebz_chain_endpoint_", "onebz_chain_follower_")):
                print("  " + line)
        for failure in failures[:30]:
            print("FAIL", failure)
        return 1 if failures else 0
    finally:
        for proc in reversed(processes):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if args.keep or failures:
            print("provider-emulation: logs in", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
