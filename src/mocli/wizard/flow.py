"""The new-case flow: the nine steps in order, answers from flags / file / draft / prompts.

Imported only when `mocli new-case` runs. Lookups are async and shown with a spinner; the policy,
the follow-up date and the message come from `casework.build_case` (pure).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from mocli import render
from mocli.errors import Cancelled, InvalidInput, MissingAnswers, MocliError, StoreError
from mocli.wizard.questions import (
    BY_KEY,
    QUESTIONS,
    STEPS,
    applicable,
    check_text,
    label,
    load_answers_file,
    validate_answer,
)

DRAFTS_DIR = "drafts"
LEGACY_DRAFT = "draft.json"  # the single draft slot of earlier versions, still listed and resumable


# ------------------------------------------------------------------ drafts: one per customer + order


def drafts_dir() -> Path:
    from mocli.config import data_dir

    return data_dir() / DRAFTS_DIR


def draft_id(answers: dict[str, Any]) -> str:
    """The draft's name: its customer and order, so two cases never share (or overwrite) one."""
    import re

    parts = [str(answers.get("customer") or "no-customer"), str(answers.get("order") or "no-order").lstrip("#")]
    return re.sub(r"[^A-Za-z0-9@._-]+", "_", "__".join(parts))[:120]


def save_draft(answers: dict[str, Any], extra: dict[str, Any]) -> Path | None:
    """Keep the answers so far (atomic, 0600) for `new-case --resume`; nothing when there are none."""
    from datetime import UTC, datetime

    from mocli.store import atomic_write, ensure_private_dir

    if not any(v not in (None, "") for v in answers.values()):
        return None  # an empty wizard leaves nothing, and never overwrites another draft
    path = drafts_dir() / f"{draft_id(answers)}.json"
    ensure_private_dir(path.parent.parent)
    ensure_private_dir(path.parent)
    payload = {"answers": answers, "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
               **{k: v for k, v in extra.items() if v is not None}}
    atomic_write(path, json.dumps(payload, ensure_ascii=False, indent=1).encode())
    return path


def list_drafts() -> list[dict[str, Any]]:
    """Every kept draft: id, customer, order, saved_at, path (unreadable ones are listed as such)."""
    from mocli.config import data_dir

    paths = sorted(drafts_dir().glob("*.json")) if drafts_dir().is_dir() else []
    legacy = data_dir() / LEGACY_DRAFT
    if legacy.is_file():
        paths.append(legacy)
    out = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            answers = data.get("answers") if isinstance(data, dict) else None
            if not isinstance(answers, dict):
                raise ValueError("no answers")
        except (OSError, ValueError, UnicodeDecodeError):
            data, answers = {}, {}
        out.append({"id": path.stem, "customer": answers.get("customer"), "order": answers.get("order"),
                    "answers": len(answers), "saved_at": data.get("saved_at"), "path": str(path)})
    return out


def describe_draft(d: dict[str, Any]) -> str:
    saved = f", saved {d['saved_at'][:16].replace('T', ' ')} UTC" if d.get("saved_at") else ""
    return f"{d['customer'] or 'no customer yet'}, order {d['order'] or 'not yet given'}{saved}"


def load_draft(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput("no draft to resume (a draft is kept when a wizard is cancelled with Ctrl-C)") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the draft {path} cannot be read ({exc}); discard it with `mocli drafts "
                           "--discard ID`") from None
    answers = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(answers, dict):
        raise InvalidInput(f"the draft {path} holds no answers; discard it with `mocli drafts --discard ID`")
    out = {}
    for key, value in answers.items():
        if key in BY_KEY and value is not None:
            out[key] = validate_answer(key, value)
    return {"answers": out, "agent": data.get("agent"), "ticket": data.get("ticket"),
            "locale": data.get("locale"), "path": path}


def pick_draft(flags: dict[str, Any]) -> Path:
    """`--resume` without a terminal: the only draft, or the one for the --customer / --order given."""
    drafts = list_drafts()
    if flags.get("order"):
        from mocli.wizard.questions import check_order_number

        order = check_order_number(flags["order"])
        drafts = [d for d in drafts if d["order"] == order]
    if flags.get("customer"):
        drafts = [d for d in drafts if (d["customer"] or "").casefold() == flags["customer"].casefold()]
    if not drafts:
        raise InvalidInput("no draft to resume (a draft is kept when a wizard is cancelled with Ctrl-C; "
                           "`mocli drafts` lists them)")
    if len(drafts) > 1:
        raise InvalidInput(f"{len(drafts)} drafts match: name one with --customer and --order "
                           f"({'; '.join(describe_draft(d) for d in drafts)})")
    return Path(drafts[0]["path"])


# ------------------------------------------------------------------ the session


# Step 8 happens later: what closes this case, by decision.
NEXT_STEP = {
    "refund_or_replacement": "When the customer has chosen: mocli resolve {id} --outcome not_received "
                             "--remedy reship|refund",
    "customer_check": "When the customer reports back: found -> mocli resolve {id} --outcome found --remedy "
                      "confirm; not found -> open the carrier investigation with mocli reassess {id}",
    "carrier_investigation": "When the carrier's trace concludes: mocli resolve {id} (found, lost with "
                             "--carrier-reference, damaged, or not_confirmed)",
    "fraud_review": "When the fraud review concludes: mocli resolve {id} --fraud-review cleared|confirmed "
                    "--reviewed-by NAME (no reship or refund before it)",
    "awaiting_shipment": "At the follow-up, check the order has shipped; add what you learn: mocli note {id} TEXT",
    "awaiting_delivery": "If it has not arrived by the follow-up: mocli resolve {id}, or mocli note {id} TEXT",
    "found": "Resolved now: the customer found the package.",
}
NO_TRACKING = object()


@dataclass
class CaseFacts:
    """What the lookups (or the agent, by hand) established, and where each fact came from."""

    customer: Any = None
    customer_ref: str | None = None
    order: Any = None
    order_ref: str | None = None
    tracking: Any = None
    situation: Any = None
    situation_reason: str = ""
    known_issues: list[Any] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    tracking_unavailable: dict[str, str] | None = None  # why the order's number has no tracking

    @property
    def delivered(self) -> bool:
        """The carrier says delivered; or, with no tracking to read, the order system does."""
        if self.tracking is None:
            return self.order is not None and self.order.fulfillment_status == "delivered"
        return self.tracking.status == "delivered"


class Wizard:
    def __init__(self, cfg: Any, now: Any, agent: str, given: dict[str, Any], prompter: Any,
                 out: Any, ticket: str | None) -> None:
        from mocli.providers.registry import Providers

        self.cfg, self.now, self.agent, self.ticket = cfg, now, agent, ticket
        self.given = given  # answers from flags / file / draft, validated
        self.answers: dict[str, Any] = {}
        self.prompter = prompter  # None when not interactive
        self.out = out
        self.providers = Providers(cfg, now.date())
        self.facts = CaseFacts()
        self.prefetched: Any = None
        # Earlier claims by (customer id, normalised address) from the case store: the repeat-claim rules.
        self.claim_history: Callable[[str, str], list[Any]] = lambda customer, address: []
        self._history: tuple[tuple[str, str], list[Any]] | None = None
        self.locale: str | None = None  # --locale: the customer's language, over the CRM's

    # -- output helpers
    def header(self, step: int) -> None:
        self.out.print()
        self.out.rule(f"[bold]Step {step} of 9 · {STEPS[step]}", align="left", style="blue")

    def spin(self, text: str):
        if self.prompter is not None:
            return self.out.status(text, spinner="dots")
        from contextlib import nullcontext

        return nullcontext()

    # -- answers
    def answer(self, key: str) -> Any:
        """From what was given, else from the agent; None if neither (non-interactive)."""
        if key in self.answers:
            return self.answers[key]
        if key in self.given:
            self.answers[key] = self.given[key]
            if self.prompter is not None:
                q = BY_KEY[key]
                shown = "yes" if self.given[key] is True else "no" if self.given[key] is False else self.given[key]
                self.out.print(render.t(f"{q.prompt} {shown}", "dim"))
            return self.answers[key]
        if self.prompter is None:
            return None
        self.answers[key] = self.prompter.ask(BY_KEY[key])
        return self.answers[key]

    @property
    def lookup_deadline(self) -> float:
        """Seconds for a lookup phase (`providers.lookup_timeout_seconds`); a slower provider counts as
        failed, and the agent may try again or type the facts."""
        return float(self.cfg.settings.providers.lookup_timeout_seconds)

    # -- lookups: customer and order at once when both are known, tracking as soon as the order is
    def _lookup(self, customer_ref: str | None, order_number: str | None, what: str) -> Any:
        from mocli.lookups import lookup_facts

        with self.spin(what):
            return lookup_facts(self.providers, customer_ref, order_number, deadline=self.lookup_deadline)

    def _failed(self, fact: Any, key: str) -> Any:
        """A lookup failed. Not interactive: the error stands. Interactive: re-ask a record that does not
        exist; for a provider that is down or slow, try again or let the agent type the facts by hand."""
        from mocli.errors import NotFound

        if fact.name == "tracking":
            self.facts.tracking_unavailable = {"reason": str(fact.error), "source": fact.source}
        if self.prompter is None:
            if fact.name == "tracking":  # expired or unknown number: the case goes on without it, saying why
                self.out.print(render.t(f"{fact.describe()}; continuing without tracking", "bold yellow"))
                return NO_TRACKING
            raise fact.error
        self.out.print(render.t(f"{fact.describe()}", "bold red"))
        if isinstance(fact.error, NotFound | InvalidInput):
            if key in ("customer", "order"):
                self.answers.pop(key, None)
                self.given.pop(key, None)
                return None
        choices = ["Try again", f"Type the {fact.name} details by hand", "Cancel (keep a draft)"]
        if fact.name == "tracking":
            choices.insert(2, "Continue without tracking")
        choice = self.prompter.choose(f"The {fact.name} lookup did not work. What now?", choices)
        if choice == "Try again":
            return None
        if choice.startswith("Cancel"):
            raise KeyboardInterrupt
        if choice.startswith("Continue"):
            self.facts.sources.pop("tracking", None)
            return NO_TRACKING
        from mocli.wizard import manual

        value = getattr(manual, f"enter_{fact.name}")(self.prompter, self)
        self.facts.sources[fact.name] = "manual"
        return value

    def _check_order(self, order: Any) -> None:
        customer = self.facts.customer
        if customer.source == order.source != "manual":
            mismatch = order.customer_id != customer.id
        else:  # different systems have different ids: compare emails where the order names one
            mismatch = bool(order.customer_email) and order.customer_email.casefold() != customer.email.casefold()
        if mismatch:
            raise InvalidInput(f"order {order.number} belongs to another customer, not {customer.email}")
        if order.placed_at > self.now + timedelta(days=1):
            raise InvalidInput(f"order {order.number}: placed_at {order.placed_at:%Y-%m-%d} is in the future; "
                               "check the order system's data")

    # -- the steps
    def step1(self) -> None:
        from mocli.casework import sla_text

        self.header(1)
        while True:
            ref = self.answer("customer")
            if self.facts.customer is not None and self.facts.customer_ref == ref:
                break
            # With the order number already known (flags, file, draft) both are looked up at once.
            number = self.given.get("order")
            found = self._lookup(ref, number, "Looking up the customer" + (" and the order…" if number else "…"))
            self.prefetched = found if number else None
            customer = found.customer.value if found.customer.ok else self._failed(found.customer, "customer")
            if customer is not None:
                source = found.customer.source if found.customer.ok else "manual"
                self.facts = CaseFacts(customer=customer, customer_ref=ref, sources={"customer": source})
                break
        c = self.facts.customer
        self.out.print(render.customer_panel(c, self.cfg.tier(c.tier), sla_text(self.cfg, c.tier)))

    def step2(self) -> None:
        self.header(2)
        while not self._resolve_order():
            pass
        self.out.print(render.order_panel(self.facts.order, self.facts.customer))
        if self.answer("address_confirmed") is False:
            self.answer("customer_address")  # recorded on the case: correct, redirect or recover to it

    def _pick_order(self) -> None:
        """Interactive step 2 when the customer does not know the order number: Enter at the prompt
        lists their recent orders from the order system (number, date, items, status) to pick from."""
        if self.prompter is None or "order" in self.answers or "order" in self.given:
            return
        provider = self.providers.orders()
        if not hasattr(provider, "recent_orders"):
            return
        q = BY_KEY["order"]
        typed = self.prompter.text("Order number (Enter: pick from their recent orders):",
                                   check=lambda s: _order_problem(s))
        if typed.strip():
            self.answers["order"] = validate_answer("order", typed)
            return
        import asyncio

        try:
            with self.spin("Looking up their recent orders…"):
                orders = asyncio.run(provider.recent_orders(self.facts.customer))
        except Exception:  # noqa: BLE001 - the picker is a convenience: fall back to typing the number
            orders = []
        labels = {render.order_choice(o): o.number for o in orders}
        if not labels:
            self.out.print(render.t("No recent orders found for this customer; type the number.", "yellow"))
            self.answers["order"] = self.prompter.ask(q)
            return
        other = "Type another order number"
        choice = self.prompter.choose("Which order?", [*labels, other])
        self.answers["order"] = labels[choice] if choice in labels else self.prompter.ask(q)

    def _resolve_order(self) -> bool:
        self._pick_order()
        number = self.answer("order")
        f = self.facts
        if f.order is not None and f.order_ref == number:
            return True
        found = self.prefetched
        if found is None or self.given.get("order") != number:
            found = self._lookup(None, number, "Looking up the order and its tracking…")
        self.prefetched = None
        if found.order.ok:
            order = found.order.value
            f.sources["order"] = found.order.source
        else:
            order = self._failed(found.order, "order")
            if order is None:
                return False
        try:
            self._check_order(order)
        except InvalidInput as exc:
            if self.prompter is None:
                raise
            self.out.print(render.t(str(exc), "bold red"))
            self.answers.pop("order", None)
            self.given.pop("order", None)
            return False
        f.order, f.order_ref, f.tracking, f.tracking_unavailable = order, number, None, None
        f.sources.pop("tracking", None)
        tracking_fact = found.tracking
        if not found.order.ok and order.tracking_number:  # typed by hand: look its tracking up now
            from mocli.lookups import lookup_facts

            with self.spin("Asking the carrier for tracking…"):
                tracking_fact = lookup_facts(self.providers, None, None, tracking_number=order.tracking_number,
                                             carrier=order.carrier, deadline=self.lookup_deadline).tracking
        while tracking_fact.failed:
            value = self._failed(tracking_fact, "tracking")
            if value is NO_TRACKING:
                return True
            if value is not None:
                f.tracking = value
                return True
            from mocli.lookups import lookup_facts

            with self.spin("Asking the carrier for tracking…"):
                tracking_fact = lookup_facts(self.providers, None, None, tracking_number=order.tracking_number,
                                             carrier=order.carrier, deadline=self.lookup_deadline).tracking
        if tracking_fact.ok:
            f.tracking = tracking_fact.value
            f.sources["tracking"] = tracking_fact.source
        return True

    def step3(self) -> None:
        from mocli.casework import classify_case, matching_known_issues

        self.header(3)
        f = self.facts
        f.situation, f.situation_reason = classify_case(self.cfg, f.order, f.tracking, self.now)
        f.known_issues = matching_known_issues(self.cfg, f.order, f.tracking, self.now.date())
        self.out.print(render.t(f"Fulfilment: {f.order.fulfillment_status}   Situation: {f.situation_reason}",
                                "bold"))
        if f.situation.value == "not_shipped":
            when = f.order.new_ship_date.isoformat() if f.order.new_ship_date else "not yet known"
            self.out.print(render.t(f"Not shipped: {f.order.not_shipped_reason or 'reason not recorded'}. "
                                    f"New ship date: {when}.", "yellow"))
        if f.tracking is not None:
            self.out.print(render.tracking_panel(f.tracking))
        for issue in f.known_issues:
            self.out.print(render.t(f"Known issue {issue.id}: {issue.note}", "bold yellow"))

    def step4(self) -> None:
        self.header(4)
        f = self.facts
        if f.tracking is None:
            self.out.print(render.t("No tracking yet: nothing to confirm with the carrier.", "dim"))
        elif f.delivered or any(e.status in ("exception", "attempt_failed") for e in f.tracking.events):
            self.out.print(render.delivery_panel(f.tracking))
        else:
            self.out.print(render.t("The carrier does not report a delivery yet.", "dim"))

    def step5(self) -> None:
        self.header(5)
        if not self.facts.delivered:
            self.out.print(render.t("Tracking does not say delivered: no delivery questions to ask.", "dim"))
        for q in applicable(self.facts.delivered):
            if q.step == 5:
                value = self.answer(q.key)
                if self.prompter is None and value is not None:
                    shown = "yes" if value is True else "no" if value is False else value
                    self.out.print(render.t(f"{q.prompt} {shown}"))

    def collect(self) -> None:
        self.step1()
        self.step2()
        self.step3()
        self.step4()
        self.step5()

    def missing(self) -> list[str]:
        keys = [q.key for q in applicable(self.facts.delivered) if not q.optional]
        return [k for k in keys if k not in self.answers and k not in self.given]

    def build(self, case_id: str | None = None):
        from mocli.casework import build_case, claims_from_cases

        f = self.facts
        asked_if = {q.key: q.asked_if_no for q in QUESTIONS if q.asked_if_no}
        answers = {k: v for k, v in self.answers.items() if k not in ("customer", "order")
                   and (k not in asked_if or self.answers.get(asked_if[k]) is False)}
        answers.setdefault("notes", "")
        who = (str(f.customer.id), f.order.address.key())
        if self._history is None or self._history[0] != who:  # read once: a rebuild may run under the store's lock
            self._history = (who, self.claim_history(*who))
        claims = self.providers.prior_claims() + claims_from_cases(self._history[1])
        sources = {k: v for k, v in f.sources.items() if v}
        case = build_case(self.cfg, customer=f.customer, order=f.order, tracking=f.tracking, answers=answers,
                          claims=claims, now=self.now, agent=self.agent, ticket=self.ticket, sources=sources,
                          locale=self.locale, tracking_unavailable=f.tracking_unavailable, case_id=case_id)
        for q in QUESTIONS:  # step 6's questions for the action decided (the VIP's choice of remedy)
            if q.decision is None:
                continue
            if q.decision != case.decision.action and q.key in self.answers:
                del self.answers[q.key]  # a changed answer changed the decision: this one no longer applies
                return self.build()
            if q.decision == case.decision.action and q.key not in answers:
                if self.answer(q.key) is not None:
                    return self.build()
        return case

    def decided_questions(self, case: Any) -> list[Any]:
        """Step 6's questions that this case's decision asked."""
        return [q for q in QUESTIONS if q.decision == case.decision.action and q.key in self.answers]

    def tick_checklist(self, case: Any) -> None:
        """The tier's handling actions as a checklist the agent ticks before saving; recorded on the case."""
        done = set(self.prompter.tick("Handling notes: tick what you have done (space, then Enter)",
                                      [c.item for c in case.checklist]))
        for c in case.checklist:
            c.done = c.item in done
        left = [c.item for c in case.checklist if not c.done]
        if left:
            self.out.print(render.t("Not done yet (recorded on the case): " + "; ".join(left), "yellow"))

    def show_decision(self, case: Any) -> None:
        from mocli.casework import sla_text

        self.header(6)
        self.out.print(render.decision_panel(case, sla_text(self.cfg, case.customer.tier)))
        self.header(7)
        self.out.print(render.t(f"Follow up by {case.follow_up_by:%A %B %-d, %Y %H:%M %Z}.", "bold"))

    def review(self, case: Any) -> bool:
        """The review screen: True to save; a changed answer re-runs what depends on it."""
        from rich.table import Table

        table = Table(title="Review before saving", show_header=True)
        table.add_column("Answer")
        table.add_column("Value")
        asked = applicable(self.facts.delivered, self.answers) + self.decided_questions(case)
        for q in asked:
            value = self.answers.get(q.key)
            shown = "yes" if value is True else "no" if value is False else (value or "")
            table.add_row(label(q.key), render.t(shown))
        table.add_row("Decision", render.t(case.decision.action.replace("_", " ")))
        self.out.print(table)
        from mocli.policy.decide import contradictions

        doubts = contradictions(self.answers)
        for doubt in doubts:
            self.out.print(render.t(f"Check with the customer: {doubt}", "bold yellow"))
        choices = ["Save the case", "Change an answer", "Cancel (keep a draft)"]
        if doubts:  # Enter should not save answers that contradict each other
            choices = [choices[1], choices[0], choices[2]]
        choice = self.prompter.choose("Save this case?", choices)
        if choice == "Save the case":
            return True
        if choice.startswith("Cancel"):
            raise KeyboardInterrupt
        by_label = {label(q.key): q.key for q in asked}
        key = by_label[self.prompter.choose("Which answer?", list(by_label))]
        previous = self.answers.pop(key, None)
        self.given.pop(key, None)
        self.answers[key] = self.prompter.ask(BY_KEY[key], default=previous)
        return False


def _order_problem(text: str) -> str | None:
    """Why a typed order number is refused at the picker's prompt; None when fine (or empty: pick)."""
    if not text.strip():
        return None
    try:
        validate_answer("order", text)
    except Exception as exc:  # noqa: BLE001 - shown to the agent as the reason
        return str(exc)
    return None


def _gather_given(flags: dict[str, Any], answers_file: Path | None,
                  resume: bool | Path) -> tuple[dict[str, Any], dict]:
    given: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if resume:
        draft = load_draft(resume if isinstance(resume, Path) else pick_draft(flags))
        given.update(draft["answers"])
        extra = {k: draft[k] for k in ("agent", "ticket", "locale", "path") if draft.get(k)}
    if answers_file is not None:
        data = load_answers_file(str(answers_file))
        for k in ("agent", "ticket", "locale"):
            if k in data:
                extra[k] = data.pop(k)
        given.update(data)
    for key, value in flags.items():
        if value is not None:
            given[key] = validate_answer(key, value)
    return given, extra


def run_new_case(*, flags: dict[str, Any], answers_file: Path | None, agent: str | None, ticket: str | None,
                 resume: bool, no_input: bool, json_out: bool, db: Path | None, update_ticket: bool = False,
                 locale: str | None = None) -> dict[str, Any]:
    from mocli.commands.common import agent_name, interactive, load, store
    from mocli.render import console

    prompting = interactive() and not no_input
    if prompting and not resume and answers_file is None and not any(v is not None for v in flags.values()):
        resume = _offer_drafts()  # a bare `mocli new-case` says drafts exist and offers to resume one
    given, extra = _gather_given(flags, answers_file, resume)
    agent = check_text("agent", agent_name(agent or extra.get("agent")))
    ticket = ticket or extra.get("ticket")
    if ticket is not None:
        check_text("ticket", str(ticket))
    locale = _locale_flag(locale if locale is not None else extra.get("locale"))
    if not prompting:
        early = [k for k in ("customer", "order", "address_confirmed") if k not in given]
        if early:
            raise MissingAnswers(early + (["(and step 5's answers if tracking says delivered)"]
                                          if {"customer", "order"} & set(early) else []))
    cfg, now = load()
    cases = store(cfg, str(db) if db else None)
    out = console(stderr=json_out) if (prompting or not json_out) else _quiet_console()
    prompter = None
    if prompting:
        from mocli.wizard.prompter import Prompter

        prompter = Prompter()
    wiz = Wizard(cfg, now, agent, given, prompter, out, ticket)
    wiz.locale = locale
    wiz.claim_history = cases.claim_history
    try:
        wiz.collect()
        if prompter is None:
            missing = wiz.missing()
            if missing:
                raise MissingAnswers(missing)
        case = wiz.build()
        wiz.show_decision(case)
        if prompter is not None:
            while not wiz.review(case):
                wiz.collect()
                case = wiz.build()
                wiz.show_decision(case)
        if prompter is not None and case.checklist:
            wiz.tick_checklist(case)
    except KeyboardInterrupt:
        if prompter is None:
            raise
        answers = {**wiz.given, **wiz.answers}
        path = save_draft(answers, {"agent": agent, "ticket": ticket, "locale": locale})
        if path is None:
            raise Cancelled("cancelled; no answers yet, nothing to keep") from None
        if extra.get("path") and Path(extra["path"]) != path:
            Path(extra["path"]).unlink(missing_ok=True)  # resumed under another name: keep only the newer
        raise Cancelled(f"cancelled; your answers are kept in {path}: `mocli new-case --resume` continues "
                        "(`mocli drafts` lists drafts)") from None
    except StoreError as exc:  # e.g. the team's server is down while checking past claims
        raise _answers_kept(exc, wiz, agent, ticket) from None
    case, record = _save(cases, wiz, case, agent, ticket)
    if extra.get("path"):
        Path(extra["path"]).unlink(missing_ok=True)  # the draft became this case
    wiz.header(8)
    if case.resolution:  # resolved in the call (the customer chose the remedy offered at step 6)
        res = case.resolution
        out.print(render.t(f"Resolved now: {res['outcome'].replace('_', ' ')}, {res['remedy']}.", "bold"))
    else:
        out.print(render.t(NEXT_STEP[case.decision.action].format(id=case.id), "bold"))
    wiz.header(9)
    from mocli.casework import message_values
    from mocli.messages import long_values

    for note in long_values(message_values(cfg, case.customer, case.order, case.tracking, case.follow_up_by,
                                           case.id, case.agent)):
        out.print(render.t(f"Note: {note}.", "yellow"))
    out.print(render.message_panel(case.message, case.decision.macro, case.locale), crop=False)
    out.print(render.t(f"Saved case {case.id} to {cases.where}", "bold green"))
    update = _offer_ticket(cfg, record, ticket, prompter, out, update_ticket) if ticket else None
    if json_out:
        render.print_json({**record, "ticket_update": update} if update else record)
    if update and update["status"] == "failed":
        from mocli.errors import TicketNotUpdated

        raise TicketNotUpdated(f"case {case.id} is saved, but ticket {ticket} was not updated: {update['error']}; "
                               f"retry with `{update['retry']}`")
    return record


def _locale_flag(value: str | None) -> str | None:
    """--locale, normalised (fr_ca -> fr-CA); exit 2 for anything CLDR does not know."""
    if value is None:
        return None
    from mocli.locales import normalise
    from mocli.messages import known_locale

    tag = normalise(value)
    if tag is None or not known_locale(tag):
        raise InvalidInput(f"--locale {value!r} is not a locale CLDR knows (like fr, fr-CA, es or es-419)")
    return tag


def _offer_drafts() -> Path | bool:
    """At start-up: say that drafts exist and offer to resume one (the path), or start afresh (False)."""
    from mocli.render import console
    from mocli.wizard.prompter import Prompter

    drafts = list_drafts()
    if not drafts:
        return False
    out = console()
    out.print(render.t(f"You have {len(drafts)} draft{'s' if len(drafts) > 1 else ''} from cancelled "
                       "wizards (`mocli drafts` lists and discards them).", "bold"))
    choices = [f"Resume: {describe_draft(d)}" for d in drafts] + ["Start a new case"]
    choice = Prompter().choose("Resume a draft?", choices)
    if choice == choices[-1]:
        return False
    return Path(drafts[choices.index(choice)]["path"])


def _save(cases: Any, wiz: Wizard, case: Any, agent: str, ticket: str | None) -> tuple[Any, dict[str, Any]]:
    """Store the case; on an id that is taken (checked under the store's lock, or by the team database),
    the same case with a fresh id. When the store fails, the agent's answers are kept as a draft so
    nothing typed is lost."""

    def redrawn() -> dict[str, Any]:
        nonlocal case
        case = wiz.build()  # a new id, and the message and history that name it
        return case.model_dump(mode="json")

    try:
        record = cases.add(case.model_dump(mode="json"), fresh=redrawn)
    except StoreError as exc:
        raise _answers_kept(exc, wiz, agent, ticket) from None
    return case, record


def _answers_kept(exc: StoreError, wiz: Wizard, agent: str, ticket: str | None) -> StoreError:
    try:
        path = save_draft({**wiz.given, **wiz.answers}, {"agent": agent, "ticket": ticket, "locale": wiz.locale})
    except MocliError:  # the disk is full too: the store's error is the one to tell
        return exc
    return StoreError(f"{exc}; nothing was saved, your answers are kept in {path}: `mocli new-case --resume` "
                      "continues")


def _offer_ticket(cfg: Any, record: dict[str, Any], ticket: str, prompter: Any, out: Any,
                  update: bool) -> dict[str, Any]:
    """Post the case to the helpdesk ticket: after the agent confirms, or with --update-ticket.

    Returns the update's status for `--json`: `updated`, `not_updated` (the agent said no, or no
    --update-ticket), `no_helpdesk`, or `failed` with the error and the command that retries it.
    """
    if not cfg.settings.providers.settings.get("zendesk"):
        out.print(render.t(f"Ticket {ticket} linked to the case (no helpdesk configured to update).", "dim"))
        return {"status": "no_helpdesk"}
    from mocli.commands.ticket import offer_ticket_update, retry_command

    def confirm(message: str) -> bool:
        if prompter is None:
            return update
        return prompter.choose(message, ["yes", "no"]) == "yes"

    try:
        sent = offer_ticket_update(cfg, record, ticket, confirm)
    except MocliError as exc:  # reported by the caller, after --json has printed the saved case
        return {"status": "failed", "error": str(exc), "retry": retry_command(record["id"])}
    if sent is None:
        hint = "" if prompter is not None else " (add --update-ticket to post it without asking)"
        out.print(render.t(f"Ticket {ticket} linked; not updated{hint}.", "dim"))
        return {"status": "not_updated", "retry": retry_command(record["id"])}
    out.print(render.t(f"Ticket {ticket}: internal note added and macro applied.", "green"))
    return {"status": "updated"}


def _quiet_console():
    """With --json and no terminal the views are not wanted: print them nowhere."""
    from rich.console import Console

    return Console(file=open(os.devnull, "w"), width=100)  # noqa: SIM115 - lives for the command



# ------------------------------------------------------------------ re-assessment (mocli reassess)

REASSESSED_KEYS = ("received_by_someone_else", "checked_drop_off_spots", "theft_in_area", "package_found",
                   "customer_choice")


def run_reassess(*, case_ref: str, flags: dict[str, Any], agent: str | None, no_input: bool, json_out: bool,
                 db: Path | None) -> None:
    """Refresh the lookups, re-run steps 5-9 with the answers that changed, append the decision."""
    from mocli import lifecycle
    from mocli.commands.common import agent_name, interactive, load, store
    from mocli.render import console

    cfg, now = load()
    who = agent_name(agent)
    cases = store(cfg, str(db) if db else None)
    old = cases.find(case_ref)
    lifecycle.ensure_open(old)
    prompting = interactive() and not no_input
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
    out = console(stderr=json_out) if (prompting or not json_out) else _quiet_console()
    prompter = None
    if prompting:
        from mocli.wizard.prompter import Prompter

        prompter = Prompter()
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
        lifecycle.ensure_open(stored)
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
                             lifecycle.history_event(now, who, "reassessed", detail),
                             *[h for h in new["history"] if h["event"] != "opened"]]
        if notes := flags.get("notes"):
            merged["history"].append(lifecycle.history_event(now, who, "note", notes))
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
