"""How mocli behaves as the case file grows: 1,000, 50,000 and 200,000 cases, warm and cold.

Generates realistic cases: every demo scenario is built once with `opening.build_case` (the same code
as `mocli new-case`), then copied with new ids, customers, agents, dates and order numbers; about 60%
of the claims are resolved with `resolving.resolve` (the same code as `mocli resolve`). The cases are
written into a fresh case store (one per size), then timed, each command a real CLI subprocess end to
end with its peak memory (the child's maximum resident set, from wait4):

* `mocli report --format json` warm (its cache built) and cold (no cache: a first run, or a report over
  another user's file), best and median of --runs;
* adding one case (`CaseStore.add`) at that size, median of 20;
* `mocli new-case --no-input`, `cases --json`, `case`, `note` and `resolve` (best of --runs, each
  `resolve` on another open case), and `new-case --no-input` on an empty store.

It ends with the issue's goals, each figure beside the one it is held to (the 1,000-case figure, the
50,000-case one, the empty store). Figures only: nothing here passes or fails a test.

Usage: .venv/bin/python benchmarks/report_scale.py [--sizes 1000,50000,200000] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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
    return list(iter_cases(n, seed))


def iter_cases(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`n` realistic case dicts in the stored shape, one at a time (200,000 at once would take GiBs)."""
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
        yield case


# Each command runs under a small Python that times it and reports its peak memory. Forked straight
# from this process, a child's maximum resident set would start at this process's (Linux keeps the high-
# water mark across fork and exec), and this one holds thousands of generated cases.
_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=sys.stdout)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(f"\\nMOCLI-BENCH {time.perf_counter() - start} {peak}\\n")
sys.exit(code)
"""


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak resident MiB, stdout) of one `mocli ARGS` process."""
    proc = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "mocli", *args], env=env,
                          capture_output=True, text=True)
    err, _, figures = proc.stderr.rpartition("\nMOCLI-BENCH ")
    if proc.returncode != 0 or not figures:
        raise SystemExit(f"mocli {' '.join(args)} failed ({proc.returncode}): {err.strip()}")
    elapsed, peak_kib = figures.split()
    return float(elapsed), int(peak_kib) / 1024, proc.stdout


def _caches(home: Path) -> list[Path]:
    return list(home.glob(".cases.db.*.cache"))


NEW_CASE = ["new-case", "--no-input", "--json", "--customer", "ben.carter@example.com", "--order", "1002",
            "--address-confirmed", "yes", "--received-by-someone-else", "no", "--checked-drop-off-spots", "yes",
            "--theft-in-area", "no", "--package-found", "no"]


def measure(n: int, runs: int, keep: Path | None) -> dict[str, tuple[float, float]]:
    """Every figure at `n` cases: name -> (best seconds, peak MiB of that kind of run)."""
    from mocli.store import CaseStore

    home = (keep / f"{n}") if keep else Path(tempfile.mkdtemp(prefix=f"mocli-bench-{n}-"))
    home.mkdir(parents=True, exist_ok=True)
    # As an agent's shell runs mocli: bytecode cached (a PYTHONDONTWRITEBYTECODE here would recompile
    # mocli's modules on every run, the same fixed cost at every size).
    shell = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env = {**shell, "MOCLI_HOME": str(home), "MOCLI_NOW": PINNED_NOW, "MOCLI_AGENT": "bench",
           "MOCLI_CONFIG_DIR": str(home / "conf")}
    os.environ.update({k: env[k] for k in ("MOCLI_HOME", "MOCLI_NOW", "MOCLI_CONFIG_DIR")})
    path = home / "cases.db"
    path.unlink(missing_ok=True)
    for cache in _caches(home):
        cache.unlink()
    out: dict[str, tuple[float, float]] = {}

    def best(label: str, args: list[str], count: int = runs, before: Any = None) -> None:
        got = []
        for _ in range(count):
            if before:
                before()
            got.append(_run(args, env)[:2])
        times = [t for t, _ in got]
        out[label] = (min(times), max(m for _, m in got))
        print(f"  {label:<28} best {min(times):6.2f} s  median {statistics.median(times):6.2f} s  "
              f"peak {out[label][1]:5.0f} MiB")

    t0 = time.perf_counter()
    store = CaseStore(path)
    cases = iter_cases(n)
    while batch := list(itertools.islice(cases, 10_000)):
        store.table.insert_multiple(batch)
    size = path.stat().st_size if path.exists() else 0
    print(f"{n:,} cases ({size / 1e6:.0f} MB journal), generated and stored in {time.perf_counter() - t0:.1f} s")
    if not n:
        _run(NEW_CASE, env)  # bytecode and config warmed; the store is still empty before each run
        best("new-case --no-input", NEW_CASE, before=lambda: path.unlink(missing_ok=True))
        return out
    drop = lambda: [c.unlink() for c in _caches(home)]  # noqa: E731
    best("report (cold)", ["report", "--format", "json"], before=drop)
    _run(["report", "--format", "json"], env)  # builds the cache
    best("report (warm)", ["report", "--format", "json"])

    extra = generate(20, seed=99)
    add_times = []
    for case in extra:
        fresh = CaseStore(path)  # a new process would open the store afresh, too
        start = time.perf_counter()
        fresh.add(case)
        add_times.append(time.perf_counter() - start)
    out["add one case"] = (statistics.median(add_times), 0.0)
    print(f"  {'add one case (CaseStore.add)':<28} median {statistics.median(add_times) * 1000:.1f} ms, "
          f"max {max(add_times) * 1000:.1f} ms")
    ref = extra[0]["id"]
    for label, args in (("new-case --no-input", NEW_CASE), ("cases --json", ["cases", "--json"]),
                        ("case CASE --json", ["case", ref, "--json"]), ("note CASE TEXT", ["note", ref, "a note"])):
        _run(args, env)  # a first run after a bulk import builds its cache
        best(label, args)
    open_ids = iter([c["id"] for c in extra if c["status"] == "open"])  # a case is resolved once
    _run(["resolve", next(open_ids), "--no-input", "--outcome", "found", "--remedy", "confirm"], env)
    got = [_run(["resolve", next(open_ids), "--no-input", "--outcome", "found", "--remedy", "confirm"], env)[:2]
           for _ in range(runs)]
    out["resolve CASE"] = (min(t for t, _ in got), max(m for _, m in got))
    print(f"  {'resolve CASE --no-input':<28} best {out['resolve CASE'][0]:6.2f} s  "
          f"peak {out['resolve CASE'][1]:5.0f} MiB")
    if not keep:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,50000,200000", help="Case counts, comma-separated.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Write the stores under here and keep them.")
    opts = parser.parse_args()
    sizes = [int(x) for x in opts.sizes.split(",")]
    print("load average at the start: {:.2f} {:.2f} {:.2f} (figures move with it)".format(*os.getloadavg()))
    at = {n: measure(n, opts.runs, opts.keep) for n in [0, *sizes]}
    print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    def ratio(name: str, n: int, ref: int) -> str:
        if name not in at.get(n, {}) or name not in at.get(ref, {}):
            return "not measured"
        return f"{at[n][name][0] / at[ref][name][0]:.2f}x ({at[n][name][0]:.2f} s vs {at[ref][name][0]:.2f} s)"

    print("\nGoals (issue 14):")
    if 50_000 in at:
        for kind, goal in (("warm", 0.5), ("cold", 1.5)):
            t, mib = at[50_000][f"report ({kind})"]
            print(f"  report {kind} at 50,000: {t:.2f} s (goal <= {goal} s), peak {mib:.0f} MiB (goal <= 150 MiB)")
        if 200_000 in at:
            for kind in ("warm", "cold"):
                name = f"report ({kind})"
                mib = at[200_000][name][1] / at[50_000][name][1]
                print(f"  report {kind} 200,000 / 50,000: time {ratio(name, 200_000, 50_000)}, peak memory "
                      f"{mib:.2f}x (goal <= 4x each)")
        for name in ("cases --json", "case CASE --json", "note CASE TEXT", "resolve CASE"):
            print(f"  {name} 50,000 / 1,000: {ratio(name, 50_000, 1000)} (goal <= 1.2x)")
        print(f"  new-case --no-input 50,000 / empty store: {ratio('new-case --no-input', 50_000, 0)} "
              "(goal <= 1.1x)")
    for n in sizes:
        if n != 1000 and 1000 in at:
            print(f"  growth 1,000 -> {n:,}: " + ", ".join(
                f"{name} {at[n][name][0] / at[1000][name][0]:.2f}x" for name in at[n] if name in at[1000]))


if __name__ == "__main__":
    main()
