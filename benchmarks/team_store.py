"""The team store (PostgreSQL) at 1,000,000 cases, beside the local file at 50,000.

Cases are the realistic ones of benchmarks/report_scale.py (every demo scenario built by the wizard's
own code, copied with new ids, customers, agents and dates; ~60% of the claims resolved), generated in
chunks of 50,000 with distinct customers per chunk (about three cases per customer, as there).

Timed against PostgreSQL, after bulk-loading --cases cases into a fresh schema:
* `mocli report --format json` (the CLI in a subprocess, end to end; the default `--top 20`), the store's
  report alone, and the recovery figures alone (SQL over the claim columns); `cases --claimable`;
* `mocli cases --overdue --json` (subprocess) and the store's listing alone;
* adding one case (`PostgresCaseStore.add`, connection open), median of 50;
* `mocli store import FILE` of a local file of 50,000 cases (subprocess).
Then the same report / cases --overdue / add on the local file of 50,000.

Usage: .venv/bin/python benchmarks/team_store.py --url postgresql://host/db [--cases 1000000] [--runs 3]
(default URL: MOCLI_TEST_POSTGRES_URL). It creates and drops the schema `mocli_bench` there
(--keep leaves it for another run with --reuse).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).parent))
from report_scale import PINNED_NOW, generate  # noqa: E402

CHUNK = 50_000
SCHEMA = "mocli_bench"


def chunk(k: int, n: int) -> list[dict]:
    """`n` cases; chunk `k` has its own customers and case ids."""
    cases = generate(n, seed=1000 + k)
    for c in cases:
        cid = f"k{k:03d}_{c['customer']['id']}"
        c["customer"]["id"] = c["order"]["customer_id"] = cid
        c["customer"]["email"] = f"{cid}@example.com"
        c["id"] = f"{c['id']}{k:03d}"  # distinct across chunks
    return cases


def cli(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mocli", *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0,):
        raise SystemExit(f"mocli {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
    return elapsed


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def show(label: str, times: list[float]) -> None:
    print(f"  {label:<52} best {min(times):7.3f} s  median {statistics.median(times):7.3f} s  "
          f"(runs: {', '.join(f'{t:.3f}' for t in times)})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("MOCLI_TEST_POSTGRES_URL"))
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--local-cases", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep the schema afterwards.")
    parser.add_argument("--reuse", action="store_true", help="Use the kept schema as it is (no load).")
    opts = parser.parse_args()
    if not opts.url:
        raise SystemExit("give --url postgresql://host/db (or set MOCLI_TEST_POSTGRES_URL)")
    import psycopg

    home = Path(tempfile.mkdtemp(prefix="mocli-team-bench-"))
    os.environ.update({"MOCLI_HOME": str(home), "MOCLI_NOW": PINNED_NOW, "MOCLI_CONFIG_DIR": str(home / "conf")})
    url = f"{opts.url}{'&' if '?' in opts.url else '?'}options={quote(f'-c search_path={SCHEMA}')}"
    env = {**os.environ, "MOCLI_STORE_URL": url, "MOCLI_AGENT": "bench"}

    from mocli.clock import now as clock_now
    from mocli.config import load_config
    from mocli.reporting import Filters
    from mocli.store.file_backend import LocalCaseStore
    from mocli.store.postgres import PostgresCaseStore

    now = clock_now(load_config(calendar=False, templates=False).settings.calendar.timezone)
    if not opts.reuse:
        with psycopg.connect(opts.url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            conn.execute(f"CREATE SCHEMA {SCHEMA}")
    team = PostgresCaseStore(url, statement_timeout=3600)
    start = time.perf_counter()
    before, after = team.init()
    refreshed = team.refresh_claims()  # a kept schema 2 store: its claim windows (migration 3)
    if before != after or refreshed:
        print(f"store init: schema {before} -> {after}, claim windows of {refreshed:,} cases worked out, "
              f"{time.perf_counter() - start:.1f} s")
    if not opts.reuse:
        t0 = time.perf_counter()
        loaded, gen = 0, 0.0
        for k in range(0, (opts.cases + CHUNK - 1) // CHUNK):
            g = time.perf_counter()
            cases = chunk(k, min(CHUNK, opts.cases - k * CHUNK))
            gen += time.perf_counter() - g
            loaded += len(team.add_many(cases))
            print(f"  loaded {loaded:,} cases ({time.perf_counter() - t0:.0f} s, of which generating {gen:.0f} s)",
                  end="\r", flush=True)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) mocli_cases")
            conn.execute("VACUUM (ANALYZE) mocli_case_events")
        print(f"\nloaded {loaded:,} cases into PostgreSQL in {time.perf_counter() - t0:.0f} s "
              f"(generating them: {gen:.0f} s)")
    total = team.status()["cases"]
    print(f"PostgreSQL team store, {total:,} cases (load average {os.getloadavg()[0]:.1f}):")
    cli(["report", "--format", "json"], env)  # warm the server's cache
    show("mocli report --format json (whole command)", [cli(["report", "--format", "json"], env)
                                                        for _ in range(opts.runs)])
    show("store report alone (SQL aggregates + assembly)", timed(lambda: team.report(Filters(), now), opts.runs))
    show("store recovery figures alone (SQL over the claim columns)",
         timed(lambda: team.recovery(Filters(), now), opts.runs))
    show("mocli cases --claimable --json (whole command, first 50)",
         [cli(["cases", "--claimable", "--json"], env) for _ in range(opts.runs)])
    show("mocli cases --overdue --json (whole command)", [cli(["cases", "--overdue", "--json"], env)
                                                          for _ in range(opts.runs)])
    show("store listing alone (open, overdue, first 50)",
         timed(lambda: team.list_cases(Filters(status="open"), now=now, overdue=True, limit=50), opts.runs))
    tag = int(time.time()) % 300  # fresh ids for the added and imported cases on every run (--reuse)
    extra = chunk(600 + tag, 50)
    adds = []
    for case in extra:
        start = time.perf_counter()
        team.add(case)
        adds.append(time.perf_counter() - start)
    print(f"  add one case (PostgresCaseStore.add, connection open): median {statistics.median(adds) * 1000:.1f} ms, "
          f"max {max(adds) * 1000:.1f} ms", flush=True)

    local_path = home / "local" / "cases.db"
    local = LocalCaseStore(local_path)
    local.table.insert_multiple(chunk(300 + tag, opts.local_cases))
    start = time.perf_counter()
    cli(["store", "import", str(local_path)], env)
    print(f"  mocli store import of {opts.local_cases:,} local cases into it: {time.perf_counter() - start:.1f} s")

    local_env = {**os.environ, "MOCLI_HOME": str(local_path.parent), "MOCLI_AGENT": "bench"}
    print(f"Local file, {opts.local_cases:,} cases:")
    cli(["report", "--format", "json"], local_env)  # a first run builds the cache
    cli(["cases", "--overdue", "--json"], local_env)
    show("mocli report --format json (whole command)", [cli(["report", "--format", "json"], local_env)
                                                        for _ in range(opts.runs)])
    show("mocli cases --overdue --json (whole command)", [cli(["cases", "--overdue", "--json"], local_env)
                                                          for _ in range(opts.runs)])
    adds = []
    for case in chunk(900 + tag % 99, 20):
        fresh = LocalCaseStore(local_path)
        start = time.perf_counter()
        fresh.add(case)
        adds.append(time.perf_counter() - start)
    print(f"  add one case (LocalCaseStore.add): median {statistics.median(adds) * 1000:.1f} ms, "
          f"max {max(adds) * 1000:.1f} ms")
    print(f"  (process start-up alone, mocli --help: {min(timed(lambda: cli(['--help'], env), 3)):.3f} s; "
          f"{datetime.now():%Y-%m-%d %H:%M})")
    team.close()
    if not opts.keep:
        with psycopg.connect(opts.url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")


if __name__ == "__main__":
    main()
