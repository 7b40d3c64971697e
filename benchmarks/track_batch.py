"""`mocli track -` over 1,000 numbers against a local carrier that answers each lookup after 50 ms.

Runs the real CLI as a subprocess, with a config dir (MOCLI_CONFIG_DIR) that sends UPS numbers to the
UPS adapter at a local server on 127.0.0.1 and fake secrets in the environment. Prints the wall time
beside the bound that the configured concurrency allows: numbers / concurrency x 50 ms.

    .venv/bin/python benchmarks/track_batch.py [--numbers 1000] [--concurrency 20] [--delay 0.05]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from mocli.tracking.detect import ups_check


def numbers(n: int) -> list[str]:
    out = []
    for i in range(n):
        body = f"999AA1{i:09d}"
        out.append(f"1Z{body}{ups_check(body)}")
    return out


def make_handler(delay: float, counter: dict[str, int]):
    class Ups(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

        def do_POST(self):  # OAuth token
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._send({"access_token": "bench", "expires_in": 3600})

        def do_GET(self):
            time.sleep(delay)
            counter["lookups"] += 1
            number = self.path.split("/details/")[1].split("?")[0]
            self._send({"trackResponse": {"shipment": [{"package": [{
                "trackingNumber": number,
                "currentStatus": {"description": "On the Way", "statusCode": "005", "type": "I"},
                "activity": [{"date": "20261125", "time": "221400", "gmtOffset": "-05:00",
                              "location": {"address": {"city": "Maspeth", "stateProvince": "NY", "country": "US"}},
                              "status": {"type": "I", "description": "Departed from Facility", "statusCode": "005"}}],
            }]}]}})

        def _send(self, data):
            raw = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    return Ups


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numbers", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--delay", type=float, default=0.05)
    args = ap.parse_args()

    counter = {"lookups": 0}
    ThreadingHTTPServer.request_queue_size = 512
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args.delay, counter))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "conf"
        conf.mkdir()
        (conf / "settings.toml").write_text(
            '[providers.tracking]\nups = "ups"\n\n[providers.settings.ups]\n'
            f'base_url = "http://127.0.0.1:{port}"\nconcurrency = {args.concurrency}\n')
        env = {**os.environ, "MOCLI_CONFIG_DIR": str(conf), "MOCLI_HOME": str(Path(tmp) / "home"),
               "UPS_CLIENT_ID": "bench-id", "UPS_CLIENT_SECRET": "bench-secret"}
        stdin = "\n".join(numbers(args.numbers)) + "\n"
        mocli = [sys.executable, "-m", "mocli"]
        started = time.perf_counter()
        proc = subprocess.run([*mocli, "track", "-", "--format", "ndjson"], input=stdin, env=env,
                              capture_output=True, text=True)
        wall = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run([*mocli, "--help"], env=env, capture_output=True)
        startup = time.perf_counter() - started
    server.shutdown()

    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
    ok = sum(1 for o in lines if o["error"] is None)
    bound = max(args.numbers / args.concurrency * args.delay, 1e-9)
    print(f"numbers           {args.numbers}")
    print(f"concurrency       {args.concurrency} (UPS adapter, local server, {args.delay * 1000:.0f} ms per lookup)")
    print(f"found             {ok} / {len(lines)} results, exit code {proc.returncode}, "
          f"{counter['lookups']} lookups served")
    print(f"bound             {bound:.2f} s  (numbers / concurrency x delay)")
    print(f"wall time         {wall:.2f} s  = {wall / bound:.2f} x bound   (target <= 1.3 x)")
    print(f"  of which start  ~{startup:.2f} s  (`mocli --help` in the same environment)")
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
    return 0 if ok == args.numbers else 1


if __name__ == "__main__":
    raise SystemExit(main())
