"""`mocli macros export | diff`: the macros mocli tells agents to apply, kept in step with the helpdesk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mocli.commands.options import JsonOut, NoInput, helped

if TYPE_CHECKING:
    from mocli.config import Config

app = typer.Typer(help="Export mocli's macros and customer messages to the helpdesk, and keep them in step.",
                  no_args_is_help=True)


def _zendesk_settings(cfg: Config) -> tuple[dict[str, int], dict[str, str]]:
    """`locale_ids` and `placeholders` from [providers.settings.zendesk], checked."""
    from mocli.errors import ConfigError
    from mocli.locales import normalise
    from mocli.providers.helpdesk import HELPDESK
    from mocli.templates import PLACEHOLDERS

    settings = cfg.settings.providers.settings.get(HELPDESK) or {}
    where = f"settings.toml: providers.settings.{HELPDESK}"
    ids = settings.get("locale_ids") or {}
    placeholders = settings.get("placeholders") or {}
    if not isinstance(ids, dict) or not isinstance(placeholders, dict):
        raise ConfigError(f"{where}: locale_ids and placeholders are tables")
    for tag, value in ids.items():
        if normalise(tag) is None or not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"{where}.locale_ids.{tag}: a locale (like fr-CA) and Zendesk's number for it")
    for name, value in placeholders.items():
        if name not in PLACEHOLDERS or not isinstance(value, str):
            raise ConfigError(f"{where}.placeholders.{name}: a mocli placeholder ({', '.join(sorted(PLACEHOLDERS))}) "
                              "and the Zendesk text that replaces it, e.g. \"{{ticket.ticket_field_360001}}\"")
    return {normalise(k) or k: v for k, v in ids.items()}, placeholders


@app.command("export")
def export(
    fmt: str = typer.Option("zendesk", "--format", metavar="zendesk", help="The helpdesk's format (zendesk)."),
    output: Path = typer.Option(None, "--output", "-o", metavar="FILE", dir_okay=False,
                                help="Write the JSON to FILE (0600) instead of stdout."),
) -> None:
    """Print the macros mocli uses as Zendesk macros, with every reply as dynamic content: a default
    text and one variant per configured language, ready for the Zendesk API.

    Facts Zendesk cannot fill (order number, dates) are [marked] for the agent, unless
    providers.settings.zendesk.placeholders maps them to ticket fields.

    Examples:
      mocli macros export --format zendesk
      mocli macros export --format zendesk --output zendesk-macros.json
    """
    import json

    from mocli import macros
    from mocli.commands.env import current_env
    from mocli.errors import InvalidInput

    if fmt != "zendesk":
        raise InvalidInput(f"--format {fmt!r}: only zendesk is supported")
    cfg, _ = current_env().load()
    ids, placeholders = _zendesk_settings(cfg)
    data = macros.export(cfg, {**macros.DOCUMENTED_LOCALE_IDS, **ids}, placeholders)
    if output is None:
        from mocli.render import print_json

        print_json(data)
        return
    from mocli.store import atomic_write

    if not output.parent.is_dir():
        raise InvalidInput(f"--output {output}: the folder {output.parent} does not exist")
    atomic_write(output, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())
    typer.echo(f"wrote {len(data['macros'])} macros and {len(data['dynamic_content_items'])} dynamic content "
               f"items to {output}", err=True)


@app.command("diff")
def diff(
    apply: bool = typer.Option(False, "--apply", help="Create or update what differs, after a confirmation."),
    yes: bool = typer.Option(False, "--yes", help="With --apply, do not ask (needed with --no-input)."),
    no_input: helped(NoInput, "Never prompt.") = False,
    json_out: JsonOut("Print the differences (and what was done) as JSON.") = False,
) -> None:
    """Compare mocli's macros and replies with the helpdesk's active macros and dynamic content: missing,
    renamed (a title edited by hand) and changed ones. --apply creates or updates them.

    Needs [providers.settings.zendesk] (docs/providers.md). Actions mocli does not manage (assignee,
    group, other fields) are kept when a macro is updated.

    Examples:
      mocli macros diff
      mocli macros diff --apply
      mocli macros diff --apply --yes --no-input
    """
    import asyncio

    from mocli import macros
    from mocli.commands.env import current_env
    from mocli.errors import Cancelled, InvalidInput
    from mocli.providers import helpdesk

    env = current_env()
    cfg, _ = env.load()
    helpdesk.helpdesk_settings(cfg, "to compare with")
    ids, placeholders = _zendesk_settings(cfg)
    prompting = env.interactive and not no_input
    if apply and not yes and not prompting:
        raise InvalidInput("--apply without a terminal needs --yes (nothing was changed)")
    from mocli.providers import http

    desk = helpdesk.connect(cfg, "to compare with")

    async def read() -> tuple[list[Any], list[Any], list[Any]]:
        async with http.run_session(deadline=120.0):
            return await asyncio.gather(desk.active_macros(), desk.locales(), desk.dynamic_content_items())

    active, zendesk_locales, items = asyncio.run(read())
    skipped: list[str] = []
    wanted = macros.export(cfg, macros.helpdesk_locale_ids(zendesk_locales, ids), placeholders, skipped)
    changes = macros.diff(wanted, active, items)
    todo = [c for c in changes if c.kind != "same"]
    _report(changes, skipped, json_out and not apply)
    if not apply or not todo:
        if apply:
            typer.echo("nothing to apply: the helpdesk is in step with mocli", err=True)
        return
    if not yes:
        if not env.prompter().confirm(f"Apply {len(todo)} change(s) to {desk.base_url}?", False):
            raise Cancelled("nothing was changed")

    async def write() -> list[str]:
        async with http.run_session(deadline=300.0):
            return await _apply(desk, todo, {m.get("id"): m for m in active})

    done = asyncio.run(write())
    if json_out:
        from mocli.render import print_json

        print_json({"changes": [c.as_dict() for c in changes], "skipped_locales": skipped, "applied": done})
    for line in done:
        typer.echo(line, err=True)


def _report(changes: list[Any], skipped: list[str], json_out: bool) -> None:
    from mocli.commands.env import current_env
    from mocli.render import print_json, t

    if json_out:
        print_json({"changes": [c.as_dict() for c in changes], "skipped_locales": skipped})
        return
    out = current_env().console(stderr=True)
    style = {"missing": "bold red", "renamed": "bold yellow", "changed": "yellow", "same": "green"}
    for c in changes:
        head = f"{c.kind:8} {c.what:16} {c.name}"
        if c.was:
            head += f"  (in the helpdesk as \u201c{c.was}\u201d)"
        out.print(t(head, style[c.kind]), soft_wrap=True)  # one line per difference, to grep or paste
        for detail in c.details:
            out.print(t(f"         {detail}", "dim"))
    if skipped:
        out.print(t(f"not exported: the helpdesk has no active locale for {', '.join(skipped)} "
                    "(activate it in Zendesk, or map it in providers.settings.zendesk.locale_ids)", "yellow"))
    counts = {k: sum(c.kind == k for c in changes) for k in style}
    out.print(t(", ".join(f"{n} {k}" for k, n in counts.items()), "bold"))


async def _apply(desk: Any, todo: list[Any], active_by_id: dict[Any, dict[str, Any]]) -> list[str]:
    """Dynamic content first (the macros' replies name it), then the macros; what was done, one line each."""
    from mocli.macros import MANAGED_FIELDS

    done = []
    for c in (c for c in todo if c.what == "dynamic content"):
        if c.kind == "missing":
            created = await desk.create_dynamic_content(c.want)
            done.append(f"created dynamic content {c.name} (id {created.get('id')})")
            continue
        for variant in c.variants.get("create", []):
            await desk.create_variant(c.id, variant)
        for variant in c.variants.get("update", []):
            await desk.update_variant(c.id, variant["id"], {"content": variant["content"]})
        done.append(f"updated dynamic content {c.name}: {'; '.join(c.details)}")
    for c in (c for c in todo if c.what == "macro"):
        if c.kind == "missing":
            created = await desk.create_macro(c.want)
            done.append(f"created macro {c.name} (id {created.get('id')})")
            continue
        have = active_by_id.get(c.id) or {}
        # Keep what the helpdesk's admins added (assignee, group, fields); tags are added, never removed.
        kept = [a for a in have.get("actions") or [] if isinstance(a, dict) and a.get("field") not in MANAGED_FIELDS]
        old_tags = next((str(a.get("value") or "") for a in have.get("actions") or []
                         if isinstance(a, dict) and a.get("field") == "current_tags"), "")
        actions = []
        for action in c.want["actions"]:
            if action["field"] == "current_tags":
                action = {"field": "current_tags",
                          "value": " ".join(dict.fromkeys(old_tags.split() + action["value"].split()))}
            actions.append(action)
        await desk.update_macro(c.id, {"title": c.name, "actions": actions + kept})
        done.append(f"updated macro {c.name}" + (f" (was \u201c{c.was}\u201d)" if c.was else ""))
    return done
