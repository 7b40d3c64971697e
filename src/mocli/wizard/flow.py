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
    STEPS,
    applicable,
    load_answers_file,
    validate_answer,
)

DRAFT_NAME = "draft.json"


# ------------------------------------------------------------------ drafts


def draft_path() -> Path:
    from mocli.config import data_dir

    return data_dir() / DRAFT_NAME


def save_draft(answers: dict[str, Any], extra: dict[str, Any]) -> Path:
    """Keep the answers so far (atomic, 0600) for `new-case --resume`."""
    from mocli.store import atomic_write, ensure_private_dir

    path = draft_path()
    ensure_private_dir(path.parent)
    payload = {"answers": answers, **{k: v for k, v in extra.items() if v is not None}}
    atomic_write(path, json.dumps(payload, ensure_ascii=False, indent=1).encode())
    return path


def load_draft() -> dict[str, Any]:
    path = draft_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput("no draft to resume (a draft is kept when a wizard is cancelled with Ctrl-C)") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the draft {path} cannot be read ({exc}); delete it to start afresh") from None
    answers = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(answers, dict):
        raise InvalidInput(f"the draft {path} holds no answers; delete it to start afresh")
    out = {}
    for key, value in answers.items():
        if key in BY_KEY and value is not None:
            out[key] = validate_answer(key, value)
    return {"answers": out, "agent": data.get("agent"), "ticket": data.get("ticket")}


# ------------------------------------------------------------------ the session


# Step 8 happens later: what closes this case, by decision.
NEXT_STEP = {
    "refund_or_replacement": "When the customer has chosen: mocli resolve {id} --outcome lost --remedy reship|refund",
    "carrier_investigation": "When the carrier's trace concludes: mocli resolve {id} (found: confirm or redeliver; "
                             "lost: reship or refund)",
    "fraud_review": "When the fraud review concludes: mocli resolve {id}",
    "awaiting_shipment": "At the follow-up, check the order has shipped; add what you learn: mocli note {id} TEXT",
    "awaiting_delivery": "If it has not arrived by the follow-up: mocli resolve {id}, or mocli note {id} TEXT",
    "found": "Resolved now: the customer found the package.",
}
LOOKUP_DEADLINE = 45.0  # seconds for the whole lookup phase; a slower provider counts as failed
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

    @property
    def delivered(self) -> bool:
        return self.tracking is not None and self.tracking.status == "delivered"


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

    # -- lookups: customer and order at once when both are known, tracking as soon as the order is
    def _lookup(self, customer_ref: str | None, order_number: str | None, what: str) -> Any:
        from mocli.lookups import lookup_facts

        with self.spin(what):
            return lookup_facts(self.providers, customer_ref, order_number, deadline=LOOKUP_DEADLINE)

    def _failed(self, fact: Any, key: str) -> Any:
        """A lookup failed. Not interactive: the error stands. Interactive: re-ask a record that does not
        exist; for a provider that is down or slow, try again or let the agent type the facts by hand."""
        from mocli.errors import NotFound

        if self.prompter is None:
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
        self.answer("address_confirmed")

    def _resolve_order(self) -> bool:
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
        f.order, f.order_ref, f.tracking = order, number, None
        f.sources.pop("tracking", None)
        tracking_fact = found.tracking
        if not found.order.ok and order.tracking_number:  # typed by hand: look its tracking up now
            from mocli.lookups import lookup_facts

            with self.spin("Asking the carrier for tracking…"):
                tracking_fact = lookup_facts(self.providers, None, None, tracking_number=order.tracking_number,
                                             carrier=order.carrier, deadline=LOOKUP_DEADLINE).tracking
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
                                             carrier=order.carrier, deadline=LOOKUP_DEADLINE).tracking
        if tracking_fact.ok:
            f.tracking = tracking_fact.value
            f.sources["tracking"] = tracking_fact.source
        return True

    def step3(self) -> None:
        from mocli.casework import matching_known_issues
        from mocli.policy.situation import classify

        self.header(3)
        f, sit = self.facts, self.cfg.settings.situation
        f.situation, f.situation_reason = classify(f.order, f.tracking, self.now,
                                                   late_after_days=sit.late_after_days,
                                                   stalled_after_days=sit.stalled_after_days)
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
        answers = {k: v for k, v in self.answers.items() if k not in ("customer", "order")}
        answers.setdefault("notes", "")
        claims = self.providers.prior_claims() + claims_from_cases(
            self.claim_history(str(f.customer.id), f.order.address.key()))
        sources = {k: v for k, v in f.sources.items() if v}
        return build_case(self.cfg, customer=f.customer, order=f.order, tracking=f.tracking, answers=answers,
                          claims=claims, now=self.now, agent=self.agent, ticket=self.ticket, sources=sources,
                          case_id=case_id)

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
        for q in applicable(self.facts.delivered):
            value = self.answers.get(q.key)
            shown = "yes" if value is True else "no" if value is False else (value or "")
            table.add_row(q.key, render.t(shown))
        table.add_row("decision", render.t(case.decision.action))
        self.out.print(table)
        choice = self.prompter.choose("Save this case?",
                                      ["Save the case", "Change an answer", "Cancel (keep a draft)"])
        if choice == "Save the case":
            return True
        if choice.startswith("Cancel"):
            raise KeyboardInterrupt
        keys = [q.key for q in applicable(self.facts.delivered)]
        key = self.prompter.choose("Which answer?", keys)
        previous = self.answers.pop(key, None)
        self.given.pop(key, None)
        self.answers[key] = self.prompter.ask(BY_KEY[key], default=previous)
        return False


def _gather_given(flags: dict[str, Any], answers_file: Path | None, resume: bool) -> tuple[dict[str, Any], dict]:
    given: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if resume:
        draft = load_draft()
        given.update(draft["answers"])
        extra = {k: draft[k] for k in ("agent", "ticket") if draft.get(k)}
    if answers_file is not None:
        data = load_answers_file(str(answers_file))
        for k in ("agent", "ticket"):
            if k in data:
                extra[k] = data.pop(k)
        given.update(data)
    for key, value in flags.items():
        if value is not None:
            given[key] = validate_answer(key, value)
    return given, extra


def run_new_case(*, flags: dict[str, Any], answers_file: Path | None, agent: str | None, ticket: str | None,
                 resume: bool, no_input: bool, json_out: bool, db: Path | None, update_ticket: bool = False) -> None:
    from mocli.commands.common import agent_name, interactive, load, store
    from mocli.render import console

    given, extra = _gather_given(flags, answers_file, resume)
    agent = agent_name(agent or extra.get("agent"))
    ticket = ticket or extra.get("ticket")
    prompting = interactive() and not no_input
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
    except KeyboardInterrupt:
        if prompter is None:
            raise
        answers = {**wiz.given, **wiz.answers}
        path = save_draft(answers, {"agent": agent, "ticket": ticket})
        raise Cancelled(f"cancelled; your answers are kept in {path}: `mocli new-case --resume` continues") from None
    except StoreError as exc:  # e.g. the team's server is down while checking past claims
        raise _answers_kept(exc, wiz, agent, ticket) from None
    case, record = _save(cases, wiz, case, agent, ticket)
    if resume:
        draft_path().unlink(missing_ok=True)
    wiz.header(8)
    out.print(render.t(NEXT_STEP[case.decision.action].format(id=case.id), "bold"))
    wiz.header(9)
    out.print(render.message_panel(case.message, case.decision.macro))
    out.print(render.t(f"Saved case {case.id} to {cases.where}", "bold green"))
    if ticket:
        _offer_ticket(cfg, record, ticket, prompter, out, update_ticket)
    if json_out:
        render.print_json(record)


def _save(cases: Any, wiz: Wizard, case: Any, agent: str, ticket: str | None) -> tuple[Any, dict[str, Any]]:
    """Store the case; on an id another agent took meanwhile, the same case with a fresh id. When the
    store fails, the agent's answers are kept as a draft so nothing typed is lost."""
    from mocli.casework import new_case_id
    from mocli.store.interface import CaseIdTaken

    for _ in range(5):
        record = case.model_dump(mode="json")
        try:
            cases.add(record)
            return case, record
        except CaseIdTaken:
            case = wiz.build(case_id=new_case_id(wiz.now))
        except StoreError as exc:
            raise _answers_kept(exc, wiz, agent, ticket) from None
    raise StoreError("could not find a free case id after 5 tries")


def _answers_kept(exc: StoreError, wiz: Wizard, agent: str, ticket: str | None) -> StoreError:
    try:
        path = save_draft({**wiz.given, **wiz.answers}, {"agent": agent, "ticket": ticket})
    except MocliError:  # the disk is full too: the store's error is the one to tell
        return exc
    return StoreError(f"{exc}; nothing was saved, your answers are kept in {path}: `mocli new-case --resume` "
                      "continues")


def _offer_ticket(cfg: Any, record: dict[str, Any], ticket: str, prompter: Any, out: Any, update: bool) -> None:
    """Post the case to the helpdesk ticket: after the agent confirms, or with --update-ticket."""
    if not cfg.settings.providers.settings.get("zendesk"):
        out.print(render.t(f"Ticket {ticket} linked to the case (no helpdesk configured to update).", "dim"))
        return
    from mocli.commands.ticket import offer_ticket_update

    def confirm(message: str) -> bool:
        if prompter is None:
            return update
        return prompter.choose(message, ["yes", "no"]) == "yes"

    try:
        sent = offer_ticket_update(cfg, record, ticket, confirm)
    except MocliError as exc:
        out.print(render.t(f"The case is saved, but ticket {ticket} was not updated: {exc}", "bold red"))
        return
    if sent is None:
        hint = "" if prompter is not None else " (add --update-ticket to post it without asking)"
        out.print(render.t(f"Ticket {ticket} linked; not updated{hint}.", "dim"))
    else:
        out.print(render.t(f"Ticket {ticket}: internal note added and macro applied.", "green"))


def _quiet_console():
    """With --json and no terminal the views are not wanted: print them nowhere."""
    from rich.console import Console

    return Console(file=open(os.devnull, "w"), width=100)  # noqa: SIM115 - lives for the command

