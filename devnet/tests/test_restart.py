"""Restarting the devnet on the port it just left (scripts/demo stopped with Ctrl-C and
started again). A connection the server closed first leaves a TIME_WAIT socket on the
port for a minute; only SO_REUSEADDR lets the new listener bind beside it (on Linux it
never lets two listeners share a port: that is SO_REUSEPORT)."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RestartTest(unittest.TestCase):
    def start(self, port: int, state_dir: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "devnet", "--port", str(port), "--state-dir", state_dir,
                                 "--exit-with-parent", str(os.getpid())],
                                cwd=TOP, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.stop, proc)
        info_path = os.path.join(state_dir, "devnet.json")
        deadline = time.time() + 90
        while not os.path.exists(info_path):
            if proc.poll() is not None:
                out, err = proc.communicate()
                self.fail("devnet on port %d exited with %d: %s%s" % (port, proc.returncode, out, err))
            if time.time() > deadline:
                self.fail("devnet on port %d not ready after 90 s" % port)
            time.sleep(0.05)
        return proc

    @staticmethod
    def stop(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C on scripts/demo sends
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()

    @staticmethod
    def block_number_server_closing(port: int) -> int:
        """eth_blockNumber with `Connection: close`, reading until the server's FIN before
        closing: the server closes first, so its side (local port = the devnet's) goes to
        TIME_WAIT, as after onebzd's and the registry's keep-alive connections."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}).encode()
        request = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request)
            reply = b""
            while chunk := sock.recv(65536):  # until EOF: the server has closed
                reply += chunk
        return int(json.loads(reply.split(b"\r\n\r\n", 1)[1])["result"], 16)

    @staticmethod
    def time_wait_on(port: int) -> bool:
        """Whether a TCP socket with local port `port` is in TIME_WAIT (Linux /proc)."""
        with open("/proc/net/tcp") as f:
            rows = [line.split() for line in f.readlines()[1:]]
        return any(int(row[1].split(":")[1], 16) == port and row[3] == "06" for row in rows)

    def test_restart_on_the_same_port_at_once(self):
        port = free_port()
        with tempfile.TemporaryDirectory() as state_dir:
            first = self.start(port, state_dir)
            self.assertGreater(self.block_number_server_closing(port), 0)
            self.stop(first)
            self.assertEqual(first.returncode, 0)
            if os.path.exists("/proc/net/tcp"):
                self.assertTrue(self.time_wait_on(port), "the test needs a TIME_WAIT socket on the port")
            second = self.start(port, state_dir)
            self.assertGreater(self.block_number_server_closing(port), 0)
            self.stop(second)
            self.assertEqual(second.returncode, 0)


if __name__ == "__main__":
    unittest.main()
