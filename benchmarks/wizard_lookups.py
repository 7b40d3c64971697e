"""How long the wizard's lookup phase takes when every lookup answers after 200 ms.

A local server on 127.0.0.1 plays Shopify (customer, order) and UPS (OAuth token, tracking); every
route answers after DELAY, the OAuth token route included (`--token-delay` to change it).
`mocli.lookups.gather_facts` runs customer and order at once, then the tracking as soon as the order
names it: the phase should take about the order -> tracking chain (2 x DELAY, since tracking needs the
order's tracking number), not the sum. The carrier's token is the third link that could lengthen the
chain; it is measured both ways: with no token cached on disk (the first run of the day: the token is
fetched beside the customer and order lookups) and with the token cached by an earlier run. Each run is
a fresh HTTP session, as one wizard run is.

    .venv/bin/python benchmarks/wizard_lookups.py [--delay 0.2] [--token-delay 0.2] [--runs 5]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "crm"
NUMBER = "1Z4E57A20368154024"


def serve(delay: float, token_delay: float):
    customers = json.loads((FIXTURES / "shopify_customers_one.json").read_text())
    orders = json.loads((FIXTURES / "shopify_orders_one.json").read_text())
    tracking = {"trackResponse": {"shipment": [{"package": [{
        "trackingNumber": NUMBER, "currentStatus": {"type": "I", "statusCode": "005", "description": "In Transit"},
        "activity": [{"date": "20261118", "time": "221000", "gmtOffset": "-05:00",
                      "location": {"address": {"city": "Secaucus", "stateProvince": "NJ", "country": "US"}},
                      "status": {"type": "I", "statusCode": "005", "description": "Arrived at Facility"}}]}]}]}}

    class Server(ThreadingHTTPServer):
        token_requests = 0

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between header and body writes

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.startswith("/security/v1/oauth/token"):
                self.server.token_requests += 1
                time.sleep(token_delay)
                data = {"access_token": "bench", "token_type": "Bearer", "expires_in": "14399"}
            else:
                time.sleep(delay)  # every lookup answers after `delay`
                if self.path.startswith("/api/track/v1/details/"):
                    data = tracking
                elif b"customers(" in body:
                    data = customers
                else:
                    data = copy.deepcopy(orders)
            raw = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.2, help="seconds each lookup takes (default 0.2)")
    parser.add_argument("--token-delay", type=float, default=None,
                        help="seconds the OAuth token route takes (default: --delay)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    token_delay = args.delay if args.token_delay is None else args.token_delay

    server = serve(args.delay, token_delay)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    conf = Path(tempfile.mkdtemp(prefix="mocli-bench-"))
    (conf / "settings.toml").write_text(f"""
[providers]
customers = "shopify"
orders = "shopify"
[providers.tracking]
default = "ups"
[providers.settings.shopify]
base_url = "{url}"
token_env = "BENCH_SHOPIFY_TOKEN"
tier_tags = {{ VIP = "VIP" }}
[providers.settings.ups]
base_url = "{url}"
client_id_env = "BENCH_UPS_ID"
client_secret_env = "BENCH_UPS_SECRET"
""")
    os.environ.update(MOCLI_CONFIG_DIR=str(conf), MOCLI_HOME=str(conf / "home"), BENCH_SHOPIFY_TOKEN="x",
                      BENCH_UPS_ID="x", BENCH_UPS_SECRET="x")
    sys.path.insert(0, str(REPO / "src"))
    from mocli.config import load_config
    from mocli.lookups import lookup_facts
    from mocli.providers import http
    from mocli.providers.registry import Providers

    cfg = load_config()
    cache = http.TokenCache.in_data_dir().path  # where lookup_facts, as the wizard, keeps tokens

    def measure(cached: bool) -> dict[str, list[float]] | None:
        figures: dict[str, list[float]] = {"phase": [], "slowest": [], "sum": []}
        for _ in range(args.runs):
            if not cached:
                cache.unlink(missing_ok=True)
            facts = lookup_facts(Providers(cfg, date(2026, 11, 27)), "maya.okafor@example.com", "1042",
                                 deadline=60)
            errors = facts.errors()
            if errors:
                print(f"lookup failed: {errors}", file=sys.stderr)
                return None
            figures["phase"].append(facts.elapsed)
            figures["slowest"].append(facts.slowest)
            figures["sum"].append(sum(facts.timings.values()))
        return figures

    token_requests = server.token_requests
    cold = measure(cached=False)
    cold_tokens = server.token_requests - token_requests
    warm = measure(cached=True)
    warm_tokens = server.token_requests - token_requests - cold_tokens
    server.shutdown()
    if cold is None or warm is None:
        return 1

    def ms(xs: list[float]) -> str:
        return f"{statistics.median(xs) * 1000:6.0f} ms"

    bound = 2 * args.delay
    print(f"each lookup answers after {args.delay * 1000:.0f} ms, the OAuth token after {token_delay * 1000:.0f} ms; "
          f"median of {args.runs} runs")
    for label, figures, tokens in (("no token cached (token fetched beside the lookups)", cold, cold_tokens),
                                   ("token cached on disk by an earlier run", warm, warm_tokens)):
        print(f"  {label}: {tokens} token request(s) in {args.runs} runs")
        print(f"    lookup phase (customer || order -> tracking): {ms(figures['phase'])}"
              f"  = {statistics.median(figures['phase']) / bound:.2f}x the chain")
        print(f"    slowest single lookup:                        {ms(figures['slowest'])}")
        print(f"    sum of the three lookups (if run in turn):    {ms(figures['sum'])}")
    print(f"  bound: order then tracking must run in turn:  {bound * 1000:6.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
