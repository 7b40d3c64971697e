"""What `mocli new-case` runs: answers from flags, file or draft; the wizard's steps; the case saved
(or the answers kept as a draft); the ticket updated. Apart from the command's flags (new_case.py) so
that every other command's start-up does not load it (gh's NewCmdX / xRun split)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mocli import render
from mocli.errors import Cancelled, InvalidInput, MissingAnswers, MocliError, StoreError


def _gather_given(flags: dict[str, Any], answers_file: Path | None,
                  resume: bool | Path) -> tuple[dict[str, Any], dict]:
    """The answers given before any prompt: a draft's, then the answers file's, then the flags'."""
    from mocli.store.drafts import load_draft
    from mocli.wizard.questions import BY_KEY, load_answers_file, validate_answer

    given: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if resume:
        draft = load_draft(resume if isinstance(resume, Path) else _pick_draft(flags))
        given.update({k: validate_answer(k, v) for k, v in draft["answers"].items() if k in BY_KEY and v is not None})
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
    from mocli.commands.env import current_env
    from mocli.policy.resolving import NEXT_STEP
    from mocli.render import quiet_console
    from mocli.store.drafts import save_draft
    from mocli.wizard.flow import Wizard
    from mocli.wizard.questions import check_text

    env = current_env()
    prompting = env.interactive and not no_input
    if prompting and not resume and answers_file is None and not any(v is not None for v in flags.values()):
        resume = _offer_drafts(env)  # a bare `mocli new-case` says drafts exist and offers to resume one
    given, extra = _gather_given(flags, answers_file, resume)
    agent = check_text("agent", env.agent(agent or extra.get("agent")))
    ticket = ticket or extra.get("ticket")
    if ticket is not None:
        check_text("ticket", str(ticket))
    locale = _locale_flag(locale if locale is not None else extra.get("locale"))
    if not prompting:
        early = [k for k in ("customer", "order", "address_confirmed") if k not in given]
        if early:
            raise MissingAnswers(early + (["(and step 5's answers if tracking says delivered)"]
                                          if {"customer", "order"} & set(early) else []))
    cfg, now = env.load()
    cases = env.store(cfg, db)
    out = env.console(stderr=json_out) if (prompting or not json_out) else quiet_console()
    prompter = env.prompter() if prompting else None
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
        out.print(render.t(f"Resolved now: {res.outcome.replace('_', ' ')}, {res.remedy}.", "bold"))
    else:
        out.print(render.t(NEXT_STEP[case.decision.action].format(id=case.id), "bold"))
    wiz.header(9)
    from mocli.policy.opening import message_values
    from mocli.templates import long_values

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
    from mocli.templates import known_locale

    tag = normalise(value)
    if tag is None or not known_locale(tag):
        raise InvalidInput(f"--locale {value!r} is not a locale CLDR knows (like fr, fr-CA, es or es-419)")
    return tag


def _pick_draft(flags: dict[str, Any]) -> Path:
    """`--resume` without a terminal: the draft for the --customer / --order given, or the only one."""
    from mocli.store.drafts import pick_draft
    from mocli.wizard.questions import check_order_number

    return pick_draft(flags.get("customer"), check_order_number(flags["order"]) if flags.get("order") else None)


def _offer_drafts(env: Any) -> Path | bool:
    """At start-up: say that drafts exist and offer to resume one (the path), or start afresh (False)."""
    from mocli.store.drafts import describe_draft, list_drafts

    drafts = list_drafts()
    if not drafts:
        return False
    out = env.console()
    out.print(render.t(f"You have {len(drafts)} draft{'s' if len(drafts) > 1 else ''} from cancelled "
                       "wizards (`mocli drafts` lists and discards them).", "bold"))
    choices = [f"Resume: {describe_draft(d)}" for d in drafts] + ["Start a new case"]
    choice = env.prompter().choose("Resume a draft?", choices)
    if choice == choices[-1]:
        return False
    return Path(drafts[choices.index(choice)]["path"])


def _save(cases: Any, wiz: Any, case: Any, agent: str, ticket: str | None) -> tuple[Any, dict[str, Any]]:
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


def _answers_kept(exc: StoreError, wiz: Any, agent: str, ticket: str | None) -> StoreError:
    from mocli.store.drafts import save_draft

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
    from mocli.providers.helpdesk import has_helpdesk

    if not has_helpdesk(cfg):
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
