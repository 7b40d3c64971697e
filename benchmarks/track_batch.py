"""`mocli track -` over 1,000 numbers against a local carrier that answers each lookup after 50 ms.

Runs the real CLI as a subprocess, with a config dir (MOCLI_CONFIG_DIR) that sends UPS numbers to the
UPS adapter at a local server on 127.0.0.1 and fake secrets in the environment. Prints the wall time
beside the bound that the configured concurrency allows: numbers / concurrency x 50 ms.

    .venv/bin/python benchmarks/track_batch.py [--numbers 1000] [--concurrency 20] [--delay 0.05] [--runs 3]

With `--before DIR` (an earlier tree's `src/` and `config/`: `git archive OLD src config | tar -x -C DIR`),
each run also times that code on the same server, just before this tree's run: a before/after pair
measured under the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from mocli.tracking.detect import ups_check


def numbers(n: int) -> list[str]:
    out = []
    for i in range(n):
        body = f"999AA1{i:09d}"
        out.append(f"1Z{body}{ups_check(body)}")
    return out


def ups_body(number: str) -> bytes:
    return json.dumps({"trackResponse": {"shipment": [{"package": [{
        "trackingNumber": number,
        "currentStatus": {"description": "On the Way", "statusCode": "005", "type": "I"},
        "activity": [{"date": "20261125", "time": "221400", "gmtOffset": "-05:00",
                      "location": {"address": {"city": "Maspeth", "stateProvince": "NY", "country": "US"}},
                      "status": {"type": "I", "description": "Departed from Facility", "statusCode": "005"}}],
    }]}]}}).encode()


class LocalUps:
    """A lean HTTP/1.1 keep-alive server on 127.0.0.1 playing UPS: asyncio, one thread, so the fake
    carrier takes as little of this 2-core machine's CPU as it can (the real one runs elsewhere)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lookups = 0
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(10)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=512))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = next((int(v) for k, _, v in (h.partition(":") for h in lines[1:])
                               if k.strip().lower() == "content-length"), 0)
                if length:
                    await reader.readexactly(length)
                if method == "POST":  # OAuth token
                    body = json.dumps({"access_token": "bench", "expires_in": 3600}).encode()
                else:
                    await asyncio.sleep(self.delay)
                    self.lookups += 1
                    body = ups_body(target.split("/details/")[1].split("?")[0])
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def bare_httpx(port: int, items: list[str], concurrency: int) -> float:
    """The same lookups from a bare httpx client in this process: what the HTTP stack alone costs here."""
    import httpx

    slots = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient() as client:
        async def one(number: str) -> None:
            async with slots:
                (await client.get(f"http://127.0.0.1:{port}/api/track/v1/details/{number}")).json()

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in items))
        return time.perf_counter() - started


def own_cpu_per_lookup(lookups: int = 2000, rounds: int = 5) -> float:
    """mocli's own CPU per lookup, in microseconds: `track_all` (detection, the UPS adapter, the shared
    HTTP client, the JSON line) over an in-memory transport that answers at once, less a bare httpx
    client's over the same transport. No sockets, no server, no start-up: the figure the load on a
    shared machine stretches least. Run in a fresh interpreter (the mocli on its sys.path)."""
    import datetime as dt

    import httpx

    from mocli.config import load_config
    from mocli.lookups import tracking as run
    from mocli.providers.registry import Providers
    from mocli.render import json_safe
    from mocli.render import tracking as view

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"access_token": "bench", "expires_in": 3600})
        return httpx.Response(200, content=ups_body(request.url.path.rsplit("/", 1)[1]),
                              headers={"content-type": "application/json"})

    cfg = load_config(calendar=False, templates=False, lazy=True)
    items = numbers(lookups)
    transport = httpx.MockTransport(answer)

    async def with_mocli() -> None:
        found = await run.track_all(Providers(cfg, dt.date.today()), items, transport=transport,
                                    on_result=lambda r: json_safe(json.dumps(view.to_json(r), ensure_ascii=False)))
        assert all(r.error_code is None for r in found), found[0].error_message

    async def with_httpx() -> None:
        slots = asyncio.Semaphore(20)
        async with httpx.AsyncClient(transport=transport) as client:
            async def one(number: str) -> None:
                async with slots:
                    (await client.get(f"http://127.0.0.1/api/track/v1/details/{number}")).json()

            await asyncio.gather(*(one(n) for n in items))

    own = []
    for _ in range(rounds):
        cpu = time.thread_time()
        asyncio.run(with_mocli())
        mocli_cpu = time.thread_time() - cpu
        cpu = time.thread_time()
        asyncio.run(with_httpx())
        own.append((mocli_cpu - (time.thread_time() - cpu)) / lookups * 1e6)
    return statistics.median(own)


def batch(mocli: list[str], stdin: str, env: dict[str, str], walls: list[float],
          cpus: list[float]) -> subprocess.CompletedProcess[str]:
    """One `mocli track -` over every number: its wall time and its CPU time (the child's) appended."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([*mocli, "track", "-", "--format", "ndjson"], input=stdin, env=env,
                          capture_output=True, text=True)
    walls.append(time.perf_counter() - started)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return proc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numbers", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--delay", type=float, default=0.05)
    ap.add_argument("--runs", type=int, default=3,
                    help="paired runs (mocli, then bare httpx); medians are printed (default 3)")
    ap.add_argument("--before", metavar="DIR", help="also time the mocli in DIR/src in each run")
    ap.add_argument("--own-cpu", action="store_true", help=argparse.SUPPRESS)  # the child of own_cpu_per_lookup
    args = ap.parse_args()
    if args.own_cpu:
        print(f"{own_cpu_per_lookup():.0f}")
        return 0
    before_src = Path(args.before) / "src" if args.before else None
    if before_src and not (before_src / "mocli").is_dir():
        ap.error(f"--before: no mocli package in {before_src}")

    server = LocalUps(args.delay)
    server.start()
    port = server.port
    items = numbers(args.numbers)
    walls, starts, bares, cpus, bare_cpus, befores, before_cpus = [], [], [], [], [], [], []

    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "conf"
        conf.mkdir()
        (conf / "settings.toml").write_text(
            '[providers.tracking]\nups = "ups"\n\n[providers.settings.ups]\n'
            f'base_url = "http://127.0.0.1:{port}"\nconcurrency = {args.concurrency}\n')
        stdin = "\n".join(items) + "\n"
        mocli = [sys.executable, "-m", "mocli"]
        # As an agent's shell runs it: bytecode cached (PYTHONDONTWRITEBYTECODE here would recompile mocli,
        # not the installed httpx, on every run) and stdout buffered as Python buffers a pipe.
        shell = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")}
        for i in range(-1, args.runs):
            # A fresh data directory each run: the first run of the day, OAuth token fetched included.
            env = {**shell, "MOCLI_CONFIG_DIR": str(conf), "MOCLI_HOME": str(Path(tmp) / f"home{i}"),
                   "UPS_CLIENT_ID": "bench-id", "UPS_CLIENT_SECRET": "bench-secret"}
            old = {**env, "PYTHONPATH": str(before_src), "MOCLI_HOME": str(Path(tmp) / f"old{i}")} \
                if before_src else None
            if i < 0:  # warm-up: one lookup, so every module's bytecode is written before the timed runs
                subprocess.run([*mocli, "track", "--json", items[0]], env=env, capture_output=True)
                if old:
                    subprocess.run([*mocli, "track", "--json", items[0]], env=old, capture_output=True)
                continue
            if old:
                proc = batch(mocli, stdin, old, befores, before_cpus)
                if proc.returncode != 0:
                    print(f"run {i + 1} (--before): exit code {proc.returncode}", file=sys.stderr)
                    return 1
            proc = batch(mocli, stdin, env, walls, cpus)
            lines = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
            ok = sum(1 for o in lines if o["error"] is None)
            if proc.returncode != 0 or ok != args.numbers:
                print(f"run {i + 1}: {ok} / {len(lines)} found, exit code {proc.returncode}", file=sys.stderr)
                print(proc.stderr[-2000:], file=sys.stderr)
                return 1
            started = time.perf_counter()
            # What a run costs before its first lookup: the same command with nothing to look up.
            subprocess.run([*mocli, "track", "--json", "not-a-number"], env=env, capture_output=True)
            starts.append(time.perf_counter() - started)
            cpu_started = time.thread_time()
            bares.append(asyncio.run(bare_httpx(port, items, args.concurrency)))
            bare_cpus.append(time.thread_time() - cpu_started)  # this thread only, not the server
        # mocli's own CPU per lookup, in a fresh interpreter each (this tree, then --before's), same config.
        owns = {}
        for label, src in (("this tree", None), ("before", before_src)) if before_src else (("this tree", None),):
            env = {**shell, "MOCLI_CONFIG_DIR": str(conf), "MOCLI_HOME": str(Path(tmp) / f"own-{label}"),
                   "UPS_CLIENT_ID": "bench-id", "UPS_CLIENT_SECRET": "bench-secret",
                   **({"PYTHONPATH": str(src)} if src else {})}
            child = subprocess.run([sys.executable, __file__, "--own-cpu"], env=env, capture_output=True, text=True)
            owns[label] = child.stdout.strip() or f"failed: {child.stderr.strip()[-300:]}"
    # The server's daemon thread ends with this process.

    bound = max(args.numbers / args.concurrency * args.delay, 1e-9)
    wall, start, bare, cpu, bare_cpu = (statistics.median(x) for x in (walls, starts, bares, cpus, bare_cpus))
    print(f"numbers           {args.numbers}")
    print(f"concurrency       {args.concurrency} (UPS adapter, local server, {args.delay * 1000:.0f} ms per lookup)")
    print(f"found             {args.numbers} / {args.numbers} in each of {args.runs} runs, "
          f"{server.lookups} lookups served")
    print(f"bound             {bound:.2f} s  (numbers / concurrency x delay)")
    print(f"wall time         {wall:.2f} s  = {wall / bound:.2f} x bound   (goal <= 1.2 x; median of {args.runs}, "
          f"start-up included; runs: {', '.join(f'{w:.2f}' for w in walls)})")
    print(f"  CPU time        {cpu:.2f} s  (user + system of the mocli process)")
    if befores:
        before, before_cpu = statistics.median(befores), statistics.median(before_cpus)
        print(f"  before          {before:.2f} s  = {before / bound:.2f} x bound   (--before {before_src}, "
              f"run just before each of those; runs: {', '.join(f'{w:.2f}' for w in befores)})")
        print(f"  before CPU      {before_cpu:.2f} s  (this tree: {cpu / before_cpu:.2f} x of it)")
    print(f"  of which start  ~{start:.2f} s  (`mocli track` with nothing to look up, same environment)")
    print(f"bare httpx        {bare:.2f} s  = {bare / bound:.2f} x bound   (the same lookups from one httpx client "
          "in this process, no start-up: the HTTP stack's own cost on this machine)")
    print(f"  CPU time        {bare_cpu:.2f} s  (the client thread only)")
    shown = ", ".join(f"{v} us ({k})" if v.isdigit() else f"{k}: {v}" for k, v in owns.items())
    print(f"mocli's own CPU   {shown} per lookup, over a bare httpx client's (in-memory transport: no server, "
          "no start-up; median of 5)")
    print(f"load average      {' '.join(f'{x:.1f}' for x in os.getloadavg())}  (wall times stretch when the "
          "2 cores are shared)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
