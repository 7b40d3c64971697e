"""What the carrier-claim clock costs at 50,000 cases: `mocli report`'s recovery figures and the
`mocli cases --claimable` filter (both `policy.claims.ClaimBook` over the cached slim views), and the
extra cost of the claim facts in `reporting.summary` (paid once per case, when the cache is built).

Cases are the demo scenarios built with `opening.build_case`, then varied: first scan and delivery
dates spread over a year, destination regions, and a share sent with Royal Mail (GB) and Canada Post
(CA), whose rules count working days in the destination's holiday calendar.

Usage: .venv/bin/python benchmarks/claims_scale.py [--cases 50000] [--runs 5]
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ORDERS = {"#1001": "ava.thompson@example.com", "#1002": "ben.carter@example.com",
          "#1006": "hana.kim@example.com", "#1007": "orders@dunmore-supply.example.com",
          "#1008": "ivan.petrov@example.com", "#1010": "eli.brooks@example.com",
          "#1012": "kai.moreau@example.com", "#1003": "ben.carter@example.com"}
ELSEWHERE = [("Royal Mail", "Royal Mail Tracked 48", "GB", "London"),
             ("Royal Mail", "Special Delivery Guaranteed", "GB", "Leeds"),
             ("Canada Post", "Expedited Parcel", "CA", "ON"), ("Canada Post", "Xpresspost", "CA", "QC")]


def cases(n: int) -> list[dict]:
    from mocli.clock import now
    from mocli.config import load_config
    from mocli.policy.opening import build_case
    from mocli.providers.registry import Providers

    cfg = load_config()
    today = now(cfg.settings.calendar.timezone)
    demo = Providers(cfg, today.date()).demo.demo
    base = []
    for number, email in ORDERS.items():
        order = demo.order(number)
        tracking = demo.tracking(order.tracking_number) if order.tracking_number else None
        base.append(build_case(cfg, customer=demo.customer(email), order=order, tracking=tracking,
                               answers={"address_confirmed": True, "received_by_someone_else": False,
                                        "checked_drop_off_spots": True, "theft_in_area": False,
                                        "package_found": False},
                               claims=[], now=today, agent="bench").model_dump(mode="json"))
    rnd = random.Random(15)
    out = []
    for i in range(n):
        case = copy.deepcopy(base[i % len(base)])
        shift = timedelta(days=rnd.randrange(365))
        for event in (case.get("tracking") or {}).get("events") or ():
            event["at"] = _minus(event["at"], shift)
        if case.get("tracking") and case["tracking"].get("delivered_at"):
            case["tracking"]["delivered_at"] = _minus(case["tracking"]["delivered_at"], shift)
        if case["order"].get("expected_delivery"):
            case["order"]["expected_delivery"] = (date.fromisoformat(case["order"]["expected_delivery"])
                                                  - shift).isoformat()
        case["order"]["address"]["region"] = rnd.choice(["NY", "CA", "TX", "NJ", "WA", "FL", "IL", "MA"])
        if case.get("tracking") and rnd.random() < 0.15:
            carrier, service, country, region = rnd.choice(ELSEWHERE)
            case["tracking"]["carrier"], case["order"]["shipping_method"] = carrier, service
            case["order"]["address"]["country"], case["order"]["address"]["region"] = country, region
        out.append(case)
    return out


def _minus(stamp: str, shift: timedelta) -> str:
    from datetime import datetime

    return (datetime.fromisoformat(stamp) - shift).isoformat()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ.setdefault("MOCLI_HOME", home)
        os.environ.setdefault("MOCLI_NOW", "2026-11-27T10:00:00-05:00")
        sys.path.insert(0, str(REPO / "src"))
        from mocli import reporting
        from mocli.claim_rules import destination_calendar, load_claim_rules
        from mocli.policy.claims import ClaimBook, claim_facts, facts_dict, recovery

        full = cases(args.cases)
        t = time.perf_counter()
        slim = [reporting.summary(c) for c in full]
        with_facts = time.perf_counter() - t
        t = time.perf_counter()
        for c in full:
            facts_dict(claim_facts(c))
        facts_only = time.perf_counter() - t
        rules, today = load_claim_rules().rules, date(2027, 3, 1)
        report_times, filter_times = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            figures = recovery(slim, rules, today, carrier_of=reporting.carrier_of, calendar_for=destination_calendar)
            report_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            book = ClaimBook(rules, today, calendar_for=destination_calendar)
            claimable = sum(book.window(s)[0] in ("eligible", "expiring") for s in slim)
            filter_times.append(time.perf_counter() - t)
        print(f"{args.cases:,} cases ({sum(v['expired_unfiled'] for v in figures.values()):,} claims expired "
              f"unfiled, {claimable:,} claimable on {today})")
        print(f"reporting.summary for all, claim facts included: {with_facts:.2f} s "
              f"(of which the claim facts: {facts_only:.2f} s; paid once per case, then cached)")
        print(f"report recovery figures:  best {min(report_times) * 1000:.0f} ms, "
              f"median {statistics.median(report_times) * 1000:.0f} ms over {args.runs} runs")
        print(f"cases --claimable filter: best {min(filter_times) * 1000:.0f} ms, "
              f"median {statistics.median(filter_times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
