#!/usr/bin/env python3
"""Opens a node's site through onebz-web (docs/gateway.md) in headless Chromium, as a
user's browser would: https://NAME.DOMAIN:PORT/ with DOMAIN's names mapped to the
gateway on 127.0.0.1 and the gateway's certificate trusted by its key (--spki) or its
CA trusted as a user would trust it (--ca: in the NSS database Chromium reads); checks
the text the page shows and saves a screenshot. Same WebDriver client as lookup_page.py.

  tools/browser/gateway_page.py --url https://shashi.1bz.gw.test:8443/ --gateway-port 8443 \\
      --spki <base64 SHA-256 of the gateway certificate's SubjectPublicKeyInfo> \\
      --expect-text "Hello from shashi" --screenshot .test-artifacts/gateway-shashi.png

Chromium resolves only DOMAIN's names (to 127.0.0.1:PORT); everything else is
~NOTFOUND, no proxy, background networking and component updates off. With --strace
FILE, chromedriver and Chromium run under `strace -f -yy -e trace=network,write` and every
IPv4/IPv6 connect and send must go to loopback (a UDP connect elsewhere, which sends no
packet, is counted as a route probe). Prints what the page showed as JSON; exit 0 when every
expectation holds, 1 when one fails, 2 when the browser could not be driven.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lookup_page import WebDriver, _ready, free_port, save_screenshot, shut_down, wait_for  # noqa: E402

PEER = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"|->\[?([0-9a-fA-F.:]+?)\]?:[0-9]+\]>')
CALL = re.compile(r'^\d+ +(?:<\.\.\. )?(connect|sendto|sendmsg|sendmmsg|write|writev)\b')
UDP_FD = re.compile(r'connect\(\d+<UDP')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="https://NAME.DOMAIN:PORT/...")
    parser.add_argument("--domain", default="1bz.gw.test", help="the gateway domain (default 1bz.gw.test)")
    parser.add_argument("--gateway-port", type=int, required=True, help="onebz-web's port on 127.0.0.1")
    trusted = parser.add_mutually_exclusive_group(required=True)
    trusted.add_argument("--spki", help="base64 SHA-256 of the gateway certificate's SubjectPublicKeyInfo (trusted)")
    trusted.add_argument("--ca", help="a root CA certificate (PEM) Chromium trusts, put in a fresh NSS database")
    parser.add_argument("--expect-text", action="append", default=[], help="text the page must show (repeatable)")
    parser.add_argument("--expect-title", help="text the page's title must contain")
    parser.add_argument("--screenshot", default=".test-artifacts/gateway-page.png")
    parser.add_argument("--strace", help="trace the browser's network calls into FILE and check them")
    parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "")
    parser.add_argument("--timeout", type=float, default=20)
    args = parser.parse_args()
    # SIGTERM (a test's time limit) ends the session and chromedriver in `finally`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    host = urllib.parse.urlsplit(args.url).hostname or ""
    if not args.url.startswith("https://") or not host.endswith("." + args.domain):
        parser.error(f"--url must be https://NAME.{args.domain}:PORT/: the browser may only reach the gateway")
    if not os.path.exists(args.chromedriver):
        print(f"chromedriver not found at {args.chromedriver} (apt-get install chromium-driver)", file=sys.stderr)
        return 2

    # Only the gateway's names resolve, to the gateway; the first matching rule applies.
    rules = f"MAP *.{args.domain} 127.0.0.1:{args.gateway_port} , MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
    port = free_port()
    profile = tempfile.mkdtemp(prefix="onebz-chromium-")
    environment = dict(os.environ)
    if args.spki:
        # The gateway's certificate is trusted by its key (Chromium honours this flag only
        # with its own --user-data-dir, which WebDriver.start always gives).
        trust = [f"--ignore-certificate-errors-spki-list={args.spki}"]
    else:
        # The CA is trusted as a browser user would trust it: in the NSS database Chromium
        # reads on Linux ($HOME/.pki/nssdb), here under a HOME of its own.
        trust = []
        nssdb = os.path.join(profile, "home", ".pki", "nssdb")
        os.makedirs(nssdb)
        for certutil in (["-N", "--empty-password"], ["-A", "-t", "C,,", "-n", "onebz-test-ca", "-i", args.ca]):
            subprocess.run(["certutil", "-d", "sql:" + nssdb] + certutil, check=True, capture_output=True)
        environment["HOME"] = os.path.join(profile, "home")
    os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
    log = open(os.path.splitext(args.screenshot)[0] + ".chromedriver.log", "w")
    command = [args.chromedriver, f"--port={port}", "--allowed-ips=127.0.0.1"]
    if args.strace:
        command = ["strace", "-f", "-qq", "-yy", "-e", "trace=network,write,writev", "-o", args.strace] + command
    driver_process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment)
    driver = WebDriver(port)
    shown = {"url": args.url}
    try:
        wait_for(lambda: _ready(driver), 15, "chromedriver")
        driver.start(args.chromium, profile, resolver_rules=rules, extra_args=trust)
        driver.s("POST", "/timeouts", {"implicit": 0, "pageLoad": int(args.timeout * 1000)})
        driver.s("POST", "/url", {"url": args.url})
        wait_for(lambda: driver.s("POST", "/execute/sync", {"script": "return document.readyState", "args": []})
                 == "complete", args.timeout, "the page to load")
        shown["location"] = driver.s("GET", "/url")
        shown["title"] = driver.s("GET", "/title")
        shown["text"] = driver.s("POST", "/execute/sync", {"script": "return document.body.innerText", "args": []})
        shown["screenshot"] = save_screenshot(driver, args.screenshot)
    except Exception as error:  # report setup/driving failures distinctly from wrong results
        print(f"browser test could not run: {error}", file=sys.stderr)
        return 2
    finally:
        shut_down(driver, driver_process, profile, log)

    failures = []
    if args.strace:
        peers, away, probes = traced_calls(args.strace)
        shown["traced_peers"] = sorted(set(peers))
        shown["udp_route_probes"] = len(probes)
        if away:
            failures.append(f"the browser reached beyond loopback: {away[:5]}")
        if "127.0.0.1" not in peers:
            failures.append("no connection to 127.0.0.1 traced (is strace tracing the browser?)")
    print(json.dumps(shown, indent=2))
    text = shown.get("text") or ""
    for expected in args.expect_text:
        if expected not in text:
            failures.append(f"the page does not show {expected!r}")
    if args.expect_title and args.expect_title not in (shown.get("title") or ""):
        failures.append(f"the title {shown.get('title')!r} lacks {args.expect_title!r}")
    for failure in failures:
        print("FAIL: " + failure, file=sys.stderr)
    return 1 if failures else 0


def is_loopback(address):
    return address.removeprefix("::ffff:").startswith("127.") or address == "::1"


def traced_calls(path):
    """From an `strace -f -yy -e trace=network,write` log: (peers, away, probes). peers: every
    IPv4/IPv6 address a call names (its sockaddr, or with -yy the connected socket's
    peer); away: the calls that reached beyond loopback; probes: UDP connect()s to
    non-loopback addresses (a route lookup: the kernel picks a source address and sends
    nothing; Chromium's and chromedriver's IPv6 reachability check). A later send on
    such a socket names the peer through -yy and counts as away."""
    peers, away, probes = [], [], []
    with open(path, errors="replace") as trace:
        for line in trace:
            call = CALL.search(line)
            if not call:
                continue
            found = [a or b or c for a, b, c in PEER.findall(line)]
            peers += found
            outside = [peer for peer in found if not is_loopback(peer)]
            if not outside:
                continue
            if call.group(1) == "connect" and UDP_FD.search(line):
                probes.append(line.strip())
            else:
                away.append(line.strip())
    return peers, away, probes


if __name__ == "__main__":
    sys.exit(main())
