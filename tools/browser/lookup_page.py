#!/usr/bin/env python3
"""Drives the gateway's lookup page in headless Chromium through chromedriver's
WebDriver HTTP API (standard library only): open BASE_URL/, type NAME into #name,
submit, wait for #r-node-id or #r-error, check the rendered text, save a screenshot.

  tools/browser/lookup_page.py --base-url http://127.0.0.1:8053 --name shashi.1bz \
      --expect-node-id <64 hex> --expect-address 203.0.113.7 --screenshot .test-artifacts/page.png
  tools/browser/lookup_page.py --base-url http://127.0.0.1:PORT --name shashi.1bz \
      --expect-error "not configured"

Prints the rendered fields as one JSON object on stdout; exit 0 when every
expectation holds, 1 when one fails, 2 on setup errors. Chromium may only reach
127.0.0.1 (host resolver rules) and runs with background networking off.
"""
import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

FIELDS = ["r-name", "r-addresses", "r-node-id", "r-public-key", "r-trust", "r-verified",
          "r-signature", "r-wallet", "r-block", "r-error"]
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # W3C WebDriver element reference key


class WebDriver:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.session = None

    def call(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read() or b"{}").get("value")
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"WebDriver {method} {path}: {error.code} {error.read()[:500]!r}") from None

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    # Nothing but loopback resolves: the page and its fetches stay on 127.0.0.1.
    LOOPBACK_ONLY = "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"

    def start(self, chromium, user_data_dir, resolver_rules=LOOPBACK_ONLY, extra_args=()):
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-default-apps", "--disable-sync",
                "--disable-extensions", "--disable-domain-reliability", "--metrics-recording-only",
                "--disable-breakpad", "--safebrowsing-disable-auto-update", "--password-store=basic",
                "--no-proxy-server", f"--host-resolver-rules={resolver_rules}",
                "--window-size=1000,760", f"--user-data-dir={user_data_dir}", *extra_args]
        options = {"args": args}
        if chromium:
            options["binary"] = chromium
        value = self.call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options}}}, timeout=60)
        self.session = value["sessionId"]

    def find(self, css):
        found = self.s("POST", "/elements", {"using": "css selector", "value": css})
        return [item[ELEMENT] for item in found]

    def text(self, element):
        return self.s("GET", f"/element/{element}/text")

    def stop(self):
        if self.session:
            try:
                self.call("DELETE", f"/session/{self.session}", timeout=10)
            except Exception:  # the browser may already be gone; the driver is stopped next
                pass


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", required=True, help="gateway URL, must be http://127.0.0.1:PORT")
    parser.add_argument("--name", required=True, help="the 1bz name to type")
    parser.add_argument("--expect-node-id", help="expected #r-node-id text")
    parser.add_argument("--expect-address", action="append", default=[],
                        help="an address #r-addresses must contain (repeatable)")
    parser.add_argument("--expect-verified", choices=["verified", "not verified"])
    parser.add_argument("--expect-signature", choices=["checked", "not checked"])
    parser.add_argument("--expect-trust")
    parser.add_argument("--expect-error", help="text #r-error must contain (an error is then expected)")
    parser.add_argument("--screenshot", default=".test-artifacts/lookup-page.png")
    parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "")
    parser.add_argument("--timeout", type=float, default=20)
    args = parser.parse_args()

    if not args.base_url.startswith("http://127.0.0.1:"):
        parser.error("--base-url must be http://127.0.0.1:PORT: the browser may only load loopback URLs")
    if not os.path.exists(args.chromedriver):
        print(f"chromedriver not found at {args.chromedriver} (apt-get install chromium-driver)", file=sys.stderr)
        return 2

    port = free_port()
    profile = tempfile.mkdtemp(prefix="onebz-chromium-")
    os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
    log = open(os.path.splitext(args.screenshot)[0] + ".chromedriver.log", "w")
    driver_process = subprocess.Popen([args.chromedriver, f"--port={port}", "--allowed-ips=127.0.0.1"],
                                      stdout=log, stderr=subprocess.STDOUT)
    driver = WebDriver(port)
    try:
        wait_for(lambda: _ready(driver), 15, "chromedriver")
        driver.start(args.chromium, profile)
        driver.s("POST", "/timeouts", {"implicit": 0, "pageLoad": int(args.timeout * 1000)})
        driver.s("POST", "/url", {"url": args.base_url.rstrip("/") + "/"})
        name_input = wait_for(lambda: driver.find("#name"), args.timeout, "#name")[0]
        driver.s("POST", f"/element/{name_input}/clear", {})
        driver.s("POST", f"/element/{name_input}/value", {"text": args.name})
        button = driver.find("#lookup button[type=submit]")[0]
        driver.s("POST", f"/element/{button}/click", {})
        wait_for(lambda: driver.find("#r-node-id, #r-error"), args.timeout, "#r-node-id or #r-error")
        rendered = {}
        for field in FIELDS:
            found = driver.find("#" + field)
            if found:
                rendered[field] = driver.text(found[0])
        rendered["screenshot"] = save_screenshot(driver, args.screenshot)
    except Exception as error:  # report setup/driving failures distinctly from wrong results
        print(f"browser test could not run: {error}", file=sys.stderr)
        return 2
    finally:
        shut_down(driver, driver_process, profile, log)

    print(json.dumps(rendered, indent=2))
    failures = check(args, rendered)
    for failure in failures:
        print("FAIL: " + failure, file=sys.stderr)
    return 1 if failures else 0


def save_screenshot(driver, path):
    """The page as Chromium shows it, as PNG at `path`; returns the absolute path."""
    with open(path, "wb") as out:
        out.write(base64.b64decode(driver.s("GET", "/screenshot")))
    return os.path.abspath(path)


def shut_down(driver, driver_process, profile, log):
    """Ends the session, asks chromedriver to exit (under strace, stopping the strace
    process would leave it running), then stops the process; removes the profile."""
    driver.stop()
    try:
        driver.call("GET", "/shutdown", timeout=5)
    except Exception:  # it closes the connection as it exits
        pass
    try:
        driver_process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        driver_process.terminate()
        try:
            driver_process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            driver_process.kill()
    shutil.rmtree(profile, ignore_errors=True)
    log.close()


def _ready(driver):
    try:
        return driver.call("GET", "/status", timeout=2).get("ready")
    except Exception:
        return False


def check(args, rendered):
    failures = []
    if args.expect_error is not None:
        if "r-error" not in rendered:
            failures.append(f"expected an error containing {args.expect_error!r}, page shows a result")
        elif args.expect_error not in rendered["r-error"]:
            failures.append(f"#r-error is {rendered['r-error']!r}, expected it to contain {args.expect_error!r}")
        return failures
    if "r-error" in rendered:
        return [f"page shows an error: {rendered['r-error']!r}"]
    if rendered.get("r-name", "").rstrip(".").lower() != args.name.rstrip(".").lower():
        failures.append(f"#r-name is {rendered.get('r-name')!r}, expected {args.name!r}")
    if args.expect_node_id and rendered.get("r-node-id") != args.expect_node_id:
        failures.append(f"#r-node-id is {rendered.get('r-node-id')!r}, expected {args.expect_node_id!r}")
    for address in args.expect_address:
        if address not in rendered.get("r-addresses", ""):
            failures.append(f"#r-addresses {rendered.get('r-addresses')!r} lacks {address}")
    for field, expected in (("r-verified", args.expect_verified), ("r-signature", args.expect_signature),
                            ("r-trust", args.expect_trust)):
        if expected is not None and rendered.get(field) != expected:
            failures.append(f"#{field} is {rendered.get(field)!r}, expected {expected!r}")
    return failures


if __name__ == "__main__":
    sys.exit(main())
