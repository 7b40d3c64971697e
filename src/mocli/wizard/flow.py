"""The wizard's step runner: the nine steps on screen in order, each answer from what was given
(flags, file, draft) or asked through the prompter; the review before saving.
Long because it is the steps themselves, one method each; `commands/new_case.py` wires it.

Lookups are async and shown with a spinner; the policy, the follow-up date and the message come from
`policy.opening.build_case` (pure).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from mocli import render
from mocli.errors import InvalidInput
from mocli.wizard.questions import (
    BY_KEY,
    QUESTIONS,
    STEPS,
    applicable,
    label,
    validate_answer,
)

# ------------------------------------------------------------------ the session


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
        from mocli.policy.opening import sla_text

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
        from mocli.policy.opening import classify_case, matching_known_issues

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
        from mocli.policy.opening import build_case, claims_from_cases

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
        from mocli.policy.opening import sla_text

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
