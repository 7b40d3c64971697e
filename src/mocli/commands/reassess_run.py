"""What `mocli reassess` runs: fresh lookups, steps 5-9 again, the new decision appended to the case.
Apart from the command's flags (reassess.py) so that other commands' start-up does not load it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mocli import render
from mocli.errors import MissingAnswers

REASSESSED_KEYS = ("received_by_someone_else", "checked_drop_off_spots", "theft_in_area", "package_found",
                   "customer_choice")


def run_reassess(*, case_ref: str, flags: dict[str, Any], agent: str | None, no_input: bool, json_out: bool,
                 db: Path | None) -> None:
    """Refresh the lookups, re-run steps 5-9 with the answers that changed, append the decision."""
    from mocli.commands.env import current_env
    from mocli.policy import resolving
    from mocli.render import quiet_console
    from mocli.wizard.flow import Wizard
    from mocli.wizard.questions import BY_KEY, validate_answer

    env = current_env()
    cfg, now, cases, old = env.open_case_to_change(case_ref, db)
    who = env.agent(agent)
    prompting = env.interactive and not no_input
    # What the customer said before stands unless it is given again (flags) or, on a terminal, re-asked:
    # step 5 and the VIP's choice are what a customer coming back changes.
    given = {"customer": old["customer"]["email"], "order": old["order"]["number"]}
    for key, value in (old.get("answers") or {}).items():
        if key in BY_KEY and (not prompting or key not in REASSESSED_KEYS):
            given[key] = validate_answer(key, value)
    for key, value in flags.items():
        if value is not None and key != "notes":  # a new note goes to the history; the first notes stay
            given[key] = validate_answer(key, value)
    given["notes"] = (old.get("answers") or {}).get("notes", "")
    out = env.console(stderr=json_out) if (prompting or not json_out) else quiet_console()
    prompter = env.prompter() if prompting else None
    wiz = Wizard(cfg, now, who, given, prompter, out, old.get("ticket"))
    # Earlier claims, this case's own left out: reassessing must not count it as a repeat of itself.
    wiz.claim_history = lambda customer, address: [c for c in cases.claim_history(customer, address)
                                                   if c and c.get("id") != old["id"]]
    wiz.collect()
    if prompter is None and (missing := wiz.missing()):
        raise MissingAnswers(missing)
    fresh = wiz.build()
    wiz.show_decision(fresh)
    new = fresh.model_dump(mode="json")

    def reassess(stored: dict[str, Any]) -> dict[str, Any]:
        resolving.ensure_open(stored)
        merged = dict(stored)
        for key in ("customer", "order", "tracking", "tracking_unavailable", "answers", "signals", "known_issues",
                    "decision", "follow_up_by", "message", "status", "sources", "resolution"):
            merged[key] = new.get(key)
        merged["sources"] = {**(stored.get("sources") or {}), **(new.get("sources") or {})}
        before, after = stored["decision"]["action"], new["decision"]["action"]
        changed = [f"{k}: {_shown(stored['answers'].get(k))} → {_shown(v)}" for k, v in new["answers"].items()
                   if k != "notes" and stored["answers"].get(k) != v]
        detail = f"{before} → {after}; macro {new['decision']['macro']}"
        if changed:
            detail += "; " + ", ".join(changed)
        if new["tracking"] and (stored.get("tracking") or {}).get("status") != new["tracking"]["status"]:
            detail += f"; tracking {(stored.get('tracking') or {}).get('status')} → {new['tracking']['status']}"
        # The stored history, then this re-assessment (and a resolution made in it), never rewritten.
        merged["history"] = [*(stored.get("history") or []),
                             resolving.history_event(now, who, "reassessed", detail),
                             *[h for h in new["history"] if h["event"] != "opened"]]
        if notes := flags.get("notes"):
            merged["history"].append(resolving.history_event(now, who, "note", notes))
        return merged

    record = cases.update(old["id"], reassess)
    wiz.header(9)
    out.print(render.message_panel(record["message"], record["decision"]["macro"]))
    out.print(render.t(f"Reassessed case {record['id']}: {old['decision']['action']} → "
                       f"{record['decision']['action']}", "bold green"))
    if json_out:
        render.print_json(record)


def _shown(value: Any) -> str:
    return "yes" if value is True else "no" if value is False else "—" if value is None else str(value)
