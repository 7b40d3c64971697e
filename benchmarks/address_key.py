"""`address_key` (the fraud rules', the wizard's and the report's address normalisation) over many addresses.

Prints the time per 100,000 addresses of mocli's `address_key` beside the character-by-character walk it
replaced (same results, checked here on every address): the report computes one key per case, so at
200,000 cases this is the figure twice over.

    .venv/bin/python benchmarks/address_key.py [--addresses 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from mocli.addresses import address_key

STREETS = ("Oak St.", "Maple Ave", "O'Brien Rd", "Rue de l’Église", "Straße", "Elm Blvd.", "Main St", "東京都 中央区")


def walk(address: dict[str, Any] | None) -> str | None:
    """The walk `address_key` replaced: one Python call per character."""
    if not address:
        return None
    raw = (f"{address.get('line1') or ''} {address.get('line2') or ''} {address.get('postal_code') or ''} "
           f"{address.get('country') or 'US'}")
    return " ".join("".join(c for c in raw.lower() if c.isalnum() or c.isspace()).split())


def addresses(n: int) -> list[dict[str, Any]]:
    rng = random.Random(14)
    return [{"line1": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
             "line2": rng.choice(["", f"Apt. {rng.randint(1, 40)}-{rng.choice('ABCD')}", "Suite #200"]),
             "postal_code": f"{rng.randint(10000, 99999)}", "country": rng.choice(["US", "CA", "GB", ""])}
            for _ in range(n)]


def best(fns: list[Any], items: list[dict[str, Any]], runs: int) -> list[float]:
    """The least CPU time of each of `fns` over `items`, run in turn (so a busy machine slows both alike)."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for i, fn in enumerate(fns):
            started = time.process_time()
            for a in items:
                fn(a)
            times[i].append(time.process_time() - started)
    return [min(t) for t in times]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--addresses", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    items = addresses(args.addresses)
    if any(address_key(a) != walk(a) for a in items):
        print("address_key and the walk disagree", flush=True)
        return 1
    ours, before = best([address_key, walk], items, args.runs)
    per = 100_000 / args.addresses
    print(f"{args.addresses} addresses, least CPU time of {args.runs} runs each, same keys from both")
    print(f"  address_key (translate or regex)   {ours * per * 1000:7.1f} ms per 100,000")
    print(f"  character-by-character walk        {before * per * 1000:7.1f} ms per 100,000  ({before / ours:.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
