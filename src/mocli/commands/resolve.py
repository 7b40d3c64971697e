"""`mocli resolve CASE`: step 8 (deliver the resolution) and step 9 (the closing), recorded on the case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mocli.commands.options import Agent, AnswersFile, CaseRef, Copy, Db, Json, NoInput, helped

RESOLVE_KEYS = ("outcome", "remedy", "reason", "approved_by", "carrier_reference", "fraud_review", "reviewed_by",
                "note")


def resolve(
    case_ref: CaseRef,
    outcome: str = typer.Option(None, "--outcome", metavar="found|lost|damaged|not_confirmed|not_received",
                                help="What the investigation concluded (not_confirmed: the carrier maintains "
                                     "it was delivered; not_received: a remedy on the customer's word, "
                                     "nothing established)."),
    remedy: str = typer.Option(None, "--remedy", metavar="confirm|redeliver|reship|refund|decline",
                               help="Found: confirm (delivered) or redeliver. Lost, damaged: reship or refund, "
                                    "by the tier's policy (VIP: the customer chooses; other tiers reship "
                                    "unless --reason says why the item cannot be reshipped). Not confirmed: "
                                    "a goodwill reship or refund (needs --approved-by) or decline."),
    carrier_reference: str = typer.Option(None, "--carrier-reference", metavar="REF",
                                          help="The carrier's trace or claim reference confirming the outcome; "
                                               "only then does the message say the carrier confirmed it."),
    reason: str = typer.Option(None, "--reason", help="Why a policy tier gets a refund instead of a reshipment."),
    approved_by: str = typer.Option(None, "--approved-by", metavar="NAME",
                                    help="The lead who approved a refund or reshipment above the tier's "
                                         "approval limit, or a goodwill remedy."),
    fraud_review: str = typer.Option(None, "--fraud-review", metavar="cleared|confirmed",
                                     help="A fraud-review case: the review's result, needed before any "
                                          "reship or refund (confirmed allows none)."),
    reviewed_by: str = typer.Option(None, "--reviewed-by", metavar="NAME", help="Who did the fraud review."),
    note: str = typer.Option(None, "--note", help="A note recorded in the case history with the resolution."),
    answers_file: helped(AnswersFile, "Answers from a TOML or JSON file (keys: outcome, remedy, reason, "
                         "approved_by, carrier_reference, fraud_review, reviewed_by, note); flags win.") = None,
    agent: Agent = None,
    no_input: NoInput = False,
    json_fields: Json("the updated case") = None,
    copy: Copy = False,
    db: Db = None,
) -> None:
    """Resolve a case (step 8): what the investigation found, the remedy by policy, the customer message.

    Records outcome, remedy, value and time to resolution, sets the status to resolved and appends
    the history; a case is resolved once (exit 1 on a second try). A refund above the tier's approval
    limit needs --approved-by (exit 2 without it).

    Examples:
      mocli resolve 7K2QF
      mocli resolve 261127-7K2 --no-input --outcome lost --remedy refund --json
      mocli resolve 7K2QF --no-input --outcome found --remedy redeliver
    """
    from mocli.commands.cases import CASE_KEYS
    from mocli.commands.env import current_env
    from mocli.errors import Cancelled, InvalidInput, MissingAnswers
    from mocli.policy import resolving
    from mocli.render import output

    fields = output.pick_fields(json_fields, CASE_KEYS)
    env = current_env()
    cfg, now, cases, case = env.open_case_to_change(case_ref, db)
    who = env.agent(agent)
    tier = cfg.tier((case.get("customer") or {}).get("tier", ""))

    answers = _answers_file(answers_file) if answers_file else {}
    given = {"outcome": outcome, "remedy": remedy, "reason": reason, "approved_by": approved_by, "note": note,
             "carrier_reference": carrier_reference, "fraud_review": fraud_review, "reviewed_by": reviewed_by}
    for key, value in given.items():
        if value is not None:
            answers[key] = value
    answers = _clean(answers)
    if answers.get("outcome") and answers["outcome"] not in resolving.OUTCOMES:
        raise InvalidInput(f"--outcome must be one of {', '.join(resolving.OUTCOMES)} "
                           f"(got {answers['outcome']!r})")
    if answers.get("remedy") and answers["remedy"] not in resolving.ALL_REMEDIES:
        raise InvalidInput(f"--remedy must be one of {', '.join(resolving.ALL_REMEDIES)} "
                           f"(got {answers['remedy']!r})")

    prompting = env.interactive and not no_input
    if prompting:
        prompter = env.prompter()
        _show_case(case)
    while qs := resolving.questions(case, tier, answers):
        q = qs[0]
        if prompting:
            answers[q.name] = _ask(prompter, q)
        elif q.default is not None:
            answers[q.name] = q.default
        else:
            raise MissingAnswers([x.missing() for x in qs if x.default is None])
        answers = _clean(answers)
    resolving.check(case, tier, answers, who)

    macro, message, language = _message(cfg, case, answers, who)
    if prompting:
        from mocli.render import message_panel

        if "note" not in answers:
            answers["note"] = resolving.clean_text(prompter.text("Note for the case history (optional)"), "note")
        env.console(stderr=True).print(message_panel(message, macro, language), crop=False)
        if not prompter.confirm(f"Resolve {case['id']} as {answers['outcome']} / {answers['remedy']}?", True):
            raise Cancelled("not resolved: nothing was changed")

    def resolved(stored: dict[str, Any]) -> dict[str, Any]:
        out = resolving.resolve(stored, tier, answers, now=now, agent=who, macro=macro, message=message)
        out["resolution"]["locale"] = language
        return out

    updated = cases.update(case["id"], resolved)
    _report(updated, None if json_fields is None else output.select(updated, fields), prompting)
    _claim_line(updated, now)
    if copy:
        from mocli.commands.cases import copy_message

        copy_message(updated["resolution"]["message"])


def _claim_line(case: dict[str, Any], now: Any) -> None:
    """Step 8 of a lost parcel: the carrier claim's clock and money, so the claim is not forgotten."""
    import sys

    from mocli.claim_ledger import status_record
    from mocli.errors import ConfigError
    from mocli.render import sanitize
    from mocli.render.claims import status_line

    if (case.get("resolution") or {}).get("outcome") != "lost":
        return
    try:
        line = status_line(status_record(case, now.date()))
    except ConfigError as exc:  # the case is resolved already: say why the claim line is missing
        line = f"carrier claim: {exc}"
    sys.stderr.write(sanitize(line) + "\n")


def _clean(answers: dict[str, Any]) -> dict[str, Any]:
    from mocli.policy.resolving import clean_text

    out: dict[str, Any] = {}
    for key, value in answers.items():
        if key not in RESOLVE_KEYS:
            from mocli.errors import InvalidInput

            raise InvalidInput(f"--answers: unknown key {key!r} (known: {', '.join(RESOLVE_KEYS)})")
        text = clean_text(None if value is None else str(value), key.replace("_", "-"))
        if text is not None:
            out[key] = text.lower() if key in ("outcome", "remedy", "fraud_review") else text
    return out


def _answers_file(path: Path) -> dict[str, Any]:
    import json
    import tomllib

    from mocli.errors import InvalidInput

    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode()) if path.suffix.lower() == ".toml" else json.loads(raw)
    except OSError as exc:
        raise InvalidInput(f"--answers {path}: cannot read: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"--answers {path}: not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: "
                           f"{exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"--answers {path}: expected a table of answers")
    for key, value in data.items():  # a number, list or table where text belongs is refused, not str()-ed
        if key in RESOLVE_KEYS and value is not None \
                and not isinstance(value, str):
            raise InvalidInput(f"--answers {path}: {key}: expected text, got {type(value).__name__}")
    return data


def _message(cfg: Any, case: dict[str, Any], answers: dict[str, Any],
             agent: str) -> tuple[str, str, dict[str, Any]]:
    """The macro, the customer message with step 9's closing (messages.toml [resolutions]) in the
    language chosen when the case was opened, and that choice."""
    from pydantic import ValidationError  # noqa: TID253

    from mocli.errors import StoreError
    from mocli.messages import choose_locale, compose_for
    from mocli.models import Case
    from mocli.policy.opening import message_values
    from mocli.policy.resolving import template_key

    try:
        c = Case.model_validate(case)
    except ValidationError as exc:
        raise StoreError(f"case {case.get('id')} does not match the case schema "
                         f"({exc.errors()[0]['loc']}: {exc.errors()[0]['msg']})") from None
    stored = c.locale or {}
    if stored.get("requested"):  # chosen again, so a variant written since the case opened is used
        choice = choose_locale(cfg, stored["requested"], stored.get("source"))
    else:
        choice = choose_locale(cfg, c.customer.locale, c.customer.source if c.customer.locale else None)
    key = template_key(answers["outcome"], answers["remedy"], answers.get("carrier_reference"))
    composed = compose_for(cfg, "resolutions", key, choice,
                           lambda fmt: message_values(cfg, c.customer, c.order, c.tracking, c.follow_up_by,
                                                      c.id, agent, locale=fmt))
    return composed.macro, composed.message, choice.record(composed)


def _show_case(case: dict[str, Any]) -> None:
    from mocli.commands.env import current_env
    from mocli.render import t

    order = case.get("order") or {}
    customer = case.get("customer") or {}
    current_env().console(stderr=True).print(t(
        f"{case.get('id')}: {customer.get('name')} ({customer.get('tier')}), order {order.get('number')} "
        f"{order.get('value', 0):,.2f} {order.get('currency', '')}, action "
        f"{(case.get('decision') or {}).get('action')}", "bold"))


def _ask(prompter: Any, q: Any) -> str:
    """One of step 8's questions: a menu when it has choices, else text that may not be empty."""
    if q.choices:
        return prompter.choose(q.prompt, list(q.choices), q.default)
    return prompter.text(q.prompt, check=lambda s: None if s.strip() else "an answer is needed")


def _report(case: dict[str, Any], json_out: dict[str, Any] | None, prompted: bool) -> None:
    from mocli.commands.env import current_env
    from mocli.render import message_panel, print_json, sanitize

    res = case["resolution"]
    if json_out is not None:
        print_json(json_out)
    elif not prompted:
        current_env().console().print(message_panel(res["message"], res["macro"], res.get("locale")), crop=False)
    value = f" {res['value']:,.2f} {res['currency']}" if res["value"] else ""
    import sys

    sys.stderr.write(sanitize(f"resolved {case['id']}: {res['outcome']}, {res['remedy']}{value}; "
                              f"apply macro: {res['macro']}") + "\n")
