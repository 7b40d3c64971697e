"""How mocli behaves at 50,000 stored cases: `mocli report` and adding one case.

Generates realistic cases: every demo scenario is built once with `opening.build_case` (the same code
as `mocli new-case`), then copied with new ids, customers, agents, dates and order numbers; about 60%
of the claims are resolved with `resolving.resolve` (the same code as `mocli resolve`). The cases are
written into a fresh case store, then timed:

* `mocli report --format json` (the real CLI in a subprocess, end to end), best and median of --runs;
* adding one case (`CaseStore.add`) at that size, median of 20;
* `mocli cases --json`, `mocli case`, `mocli note` and `mocli resolve` at that size (subprocesses;
  best of two, each `resolve` on another open case).

Usage: .venv/bin/python benchmarks/report_scale.py [--cases 50000] [--runs 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

PINNED_NOW = "2026-11-27T10:00:00-05:00"
AGENTS = [f"agent{n:02d}" for n in range(1, 25)]
FIRST = ["Ava", "Ben", "Chloe", "Dev", "Eli", "Farah", "Gus", "Hana", "Ivan", "Jade", "Kai", "Mia",
         "Noah", "Olga", "Pia", "Raj", "Sara", "Tom", "Uma", "Yusuf"]
LAST = ["Thompson", "Carter", "Nguyen", "Patel", "Brooks", "Haddad", "Miller", "Kim", "Petrov", "Wu",
        "Moreau", "Rossi", "Okafor", "Larsen", "Silva", "Novak"]
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ANSWER_VARIANTS = [
    {"address_confirmed": True, "received_by_someone_else": False, "checked_drop_off_spots": True,
     "theft_in_area": False, "package_found": False},
    {"address_confirmed": True, "received_by_someone_else": True, "checked_drop_off_spots": True,
     "theft_in_area": True, "package_found": False, "notes": "Neighbour at No. 12 was away."},
    {"address_confirmed": True, "received_by_someone_else": False, "checked_drop_off_spots": False,
     "theft_in_area": False, "package_found": True},
]


def base_cases(cfg: Any, now: datetime) -> list[Any]:
    """One real case per demo scenario and answer variant, built by opening.build_case."""
    from mocli.policy.opening import build_case
    from mocli.providers.registry import Providers

    demo = Providers(cfg, now.date()).demo.demo
    out = []
    for s in demo.data["scenarios"]:
        customer = demo.customer(s["customer"])
        order = demo.order(s["order"])
        tracking = demo.tracking(s["tracking_number"]) if s["tracking_number"] else None
        for answers in ANSWER_VARIANTS:
            out.append(build_case(cfg, customer=customer, order=order, tracking=tracking,
                                  answers=dict(answers), claims=[], now=now, agent="agent01"))
    return out


def generate(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """`n` realistic case dicts in the stored shape."""
    from mocli.clock import now as clock_now
    from mocli.config import load_config
    from mocli.messages import compose
    from mocli.policy import resolving
    from mocli.policy.opening import message_values
    from mocli.reporting import CLAIM_ACTIONS

    os.environ.setdefault("MOCLI_NOW", PINNED_NOW)
    cfg = load_config()
    now = clock_now(cfg.settings.calendar.timezone)
    rng = random.Random(seed)
    bases = base_cases(cfg, now)
    dumped = [b.model_dump(mode="json") for b in bases]
    messages: dict[tuple[int, str], tuple[str, str]] = {}
    customers = [(f"cus_{i:06d}", f"{rng.choice(FIRST)} {rng.choice(LAST)}") for i in range(max(50, n // 3))]
    import orjson

    out = []
    for i in range(n):
        k = rng.randrange(len(bases))
        case = orjson.loads(orjson.dumps(dumped[k]))  # a deep copy, fast
        age = timedelta(days=rng.uniform(0, 120))
        created = now - age
        shift = created - now
        case["created_at"] = created.isoformat()
        case["follow_up_by"] = (datetime.fromisoformat(case["follow_up_by"]) + shift).isoformat()
        case["id"] = f"MO-{created:%y%m%d}-" + "".join(rng.choice(ALPHABET) for _ in range(6))
        case["agent"] = rng.choice(AGENTS)
        cid, name = rng.choice(customers)
        case["customer"]["id"] = cid
        case["customer"]["name"] = name
        case["customer"]["email"] = f"{cid}@example.com"
        case["order"]["number"] = f"#{100000 + i}"
        case["order"]["customer_id"] = cid
        case["order"]["value"] = round(rng.uniform(15, 1800), 2)
        if rng.random() < 0.02:  # some addresses shared by several customers
            case["order"]["address"]["line1"] = "1 Shared Lane"
        for event in case["history"]:
            event["at"] = created.isoformat()
            event["agent"] = case["agent"]
        if case["status"] == "open" and case["decision"]["action"] in CLAIM_ACTIONS \
                and rng.random() < 0.6:
            tier = cfg.tier(case["customer"]["tier"])
            outcome = "lost" if rng.random() < 0.55 else "found"
            remedy = rng.choice(resolving.REMEDIES[outcome])
            answers = {"outcome": outcome, "remedy": remedy}
            if remedy == "refund" and tier.remedy_choice != "customer":
                answers["reason"] = "item out of stock"
            if resolving.needs_approval(case, tier, outcome, remedy):
                answers["approved_by"] = "lead01"
            if resolving.under_fraud_review(case) and remedy in resolving.PAID_REMEDIES:
                answers.update(fraud_review="cleared", reviewed_by="risk01")
            key = resolving.TEMPLATE_KEYS[(outcome, remedy)]
            if (k, key) not in messages:
                b = bases[k]
                messages[(k, key)] = compose(cfg, "resolutions", key, message_values(
                    cfg, b.customer, b.order, b.tracking, b.follow_up_by, b.id, b.agent))
            macro, message = messages[(k, key)]
            when = created + timedelta(hours=rng.uniform(2, 24 * 10))
            if when < now:
                case = resolving.resolve(case, tier, answers, now=when, agent=case["agent"],
                                         macro=macro, message=message)
        out.append(case)
    return out


def _run(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mocli", *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"mocli {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed, proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="Write the store here and keep it (default: a temp dir).")
    opts = parser.parse_args()

    home = opts.keep or Path(tempfile.mkdtemp(prefix="mocli-bench-"))
    env = {**os.environ, "MOCLI_HOME": str(home), "MOCLI_NOW": PINNED_NOW, "MOCLI_AGENT": "bench",
           "MOCLI_CONFIG_DIR": str(home / "conf")}
    os.environ.update({k: env[k] for k in ("MOCLI_HOME", "MOCLI_NOW", "MOCLI_CONFIG_DIR")})

    from mocli.store import CaseStore

    t0 = time.perf_counter()
    cases = generate(opts.cases)
    t1 = time.perf_counter()
    path = home / "cases.db"
    path.unlink(missing_ok=True)
    store = CaseStore(path)
    store.table.insert_multiple(cases)
    t2 = time.perf_counter()
    size = path.stat().st_size
    print(f"generated {len(cases):,} cases in {t1 - t0:.1f} s; stored in {t2 - t1:.1f} s "
          f"({size / 1e6:.0f} MB, {path})")

    _run(["report", "--format", "json"], env)  # warm the OS file cache
    times = []
    for _ in range(opts.runs):
        elapsed, proc = _run(["report", "--format", "json"], env)
        times.append(elapsed)
    import json

    total = json.loads(proc.stdout)["total"]
    help_times = [_run(["--help"], env)[0] for _ in range(3)]
    print(f"mocli report --format json over {total:,} cases: best {min(times):.2f} s, "
          f"median {statistics.median(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)}; "
          f"process start-up alone, mocli --help: {min(help_times):.2f} s)")

    extra = generate(20, seed=99)
    add_times = []
    for case in extra:
        fresh = CaseStore(path)  # a new process would open the store afresh, too
        start = time.perf_counter()
        fresh.add(case)
        add_times.append(time.perf_counter() - start)
    print(f"add one case at {len(cases):,} cases (CaseStore.add, open store): median "
          f"{statistics.median(add_times) * 1000:.1f} ms, max {max(add_times) * 1000:.1f} ms")

    ref = extra[0]["id"]
    new_case = ["new-case", "--no-input", "--json", "--customer", "ben.carter@example.com", "--order", "1002",
                "--address-confirmed", "yes", "--received-by-someone-else", "no", "--checked-drop-off-spots", "yes",
                "--theft-in-area", "no", "--package-found", "no"]
    for label, args in (("mocli new-case --no-input (whole command)", new_case),
                        ("mocli cases --json (default limit)", ["cases", "--json"]),
                        ("mocli case CASE --json", ["case", ref, "--json"]),
                        ("mocli note CASE TEXT", ["note", ref, "benchmark note"])):
        runs = [_run(args, env)[0] for _ in range(2)]
        print(f"{label} at {len(cases) + len(extra):,} cases: {min(runs):.2f} s (runs: {runs[0]:.2f}, "
              f"{runs[1]:.2f}; a first run may build a cache)")
    open_ids = [c["id"] for c in extra if c["status"] == "open"][:2]  # a case is resolved once
    runs = [_run(["resolve", ref, "--no-input", "--outcome", "found", "--remedy", "confirm"], env)[0]
            for ref in open_ids]
    print(f"mocli resolve CASE --no-input at {len(cases) + len(extra):,} cases: {min(runs):.2f} s "
          f"(runs: {runs[0]:.2f}, {runs[1]:.2f})")
    if not opts.keep:
        import shutil

        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
