"""One output vocabulary for every data command: `--json [FIELDS]` and `--format`, declared once.

Like gh: on a terminal a table sized to it; piped, tab-separated rows (no header, no boxes, nothing
cut) so `grep` and `cut` work; `--json` for scripts, `--json id,status` for some fields only.
Only typer and the standard library load here (it is imported by the command modules).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import typer

FORMATS = ("table", "tsv", "json", "ndjson", "csv", "markdown")
# What `--json` may be followed by to be taken as a field list rather than the next argument.
_FIELD_LIST = re.compile(r"^[a-z_][a-z0-9_]*(,[a-z_][a-z0-9_]*)*$")


def pager_option() -> Any:
    """`--no-pager`, the same on every command with a long view."""
    return typer.Option(False, "--no-pager", help="Print the view directly instead of through $PAGER "
                                                  "(the pager is used only on a terminal).")


def json_option(what: str) -> Any:
    """`--json [FIELDS]`, the same on every data command."""
    return typer.Option(None, "--json", metavar="[FIELDS]",
                        help=f"Print {what} as JSON; with FIELDS (comma-separated, e.g. id,status) only those "
                             "keys. `--json help` lists the keys.")


def format_option(formats: Sequence[str] = FORMATS) -> Any:
    """`--format`, the same on every data command; the default is a table on a terminal, rows when piped."""
    # A short metavar: the formats' names in the type column would squeeze every help text at 80 columns.
    return typer.Option(None, "--format", "-f", metavar="FORMAT",
                        help=f"{', '.join(formats[:-1])} or {formats[-1]} (default: table on a terminal, "
                             "tab-separated rows when piped).")


def split_json_flag(argv: list[str], keys: dict[str, Sequence[str]], takes_args: set[str]) -> list[str]:
    """`--json` with its optional FIELDS made explicit (`--json=` for all), before Typer parses argv.

    Click options take a value or do not; `--json` alone must keep meaning "all fields", so for the
    commands in `keys` the next argument is FIELDS when it looks like a list of keys, or `help`; for a
    command that `takes_args` (case ids, tracking numbers) only when every name in it is one of its keys.
    """
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in keys:
        return argv
    known = set(keys[command])
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            out += argv[i:]
            break
        if arg == "--json":
            nxt = argv[i + 1] if i + 1 < len(argv) else None
            fields = nxt is not None and _FIELD_LIST.match(nxt)
            if fields and (nxt == "help" or command not in takes_args or set(nxt.split(",")) <= known):
                out.append(f"--json={nxt}")
                i += 2
                continue
            out.append("--json=")
        else:
            out.append(arg)
        i += 1
    return out


@dataclass
class Column:
    """One column of a data command's rows: its header, its value for scripts and for people."""

    header: str
    data: Callable[[Any], Any]  # the full value, for tsv/csv/markdown (never cut)
    shown: Callable[[Any], Any] | None = None  # the table cell (a str or Rich Text), default `data`
    wrap: bool = False  # long descriptions: wrapped in the table, placed last
    drop: int = 0  # dropped to fit the terminal, highest first; 0 never (ids, orders, tracking numbers)


def choose(fmt: str | None, json_fields: str | None, allowed: Sequence[str] = FORMATS) -> str:
    """The format to print: `--json` means json (or ndjson with `--format ndjson`), else `--format`,
    else a table on a terminal and tab-separated rows when piped."""
    from mocli.errors import InvalidInput

    if fmt is not None:
        fmt = fmt.lower()
        if fmt not in allowed:
            raise InvalidInput(f"--format must be one of {', '.join(allowed)} (got {fmt!r})")
    if json_fields is not None:
        if fmt not in (None, "json", "ndjson"):
            raise InvalidInput(f"--json prints JSON: give it with --format json or ndjson, not {fmt}")
        return fmt or "json"
    if fmt is not None:
        return fmt
    from mocli.render import stdout_is_terminal

    return "table" if stdout_is_terminal() else "tsv"


def pick_fields(json_fields: str | None, available: Sequence[str]) -> list[str] | None:
    """The keys `--json FIELDS` asks for (None: all); exit 2 naming the keys there are, as gh does."""
    from mocli.errors import InvalidInput

    if not json_fields:
        return None
    if json_fields == "help":
        raise InvalidInput(f"--json takes these keys: {', '.join(available)}")
    wanted = [f.strip() for f in json_fields.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in available]
    if unknown:
        raise InvalidInput(f"--json: unknown key {', '.join(unknown)} (keys: {', '.join(available)})")
    return wanted


def select(record: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    return record if fields is None else {f: record.get(f) for f in fields}


def cell(value: Any) -> str:
    """A value as one field of a row: sanitised, on one line, '' for nothing."""
    from mocli.render import sanitize

    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return " ".join(sanitize(value).split())


def emit_rows(rows: Sequence[Any], columns: Sequence[Column], fmt: str, *, records: Callable[[Any], dict] | None
              = None, fields: list[str] | None = None, title: str | None = None) -> None:
    """Print `rows` in `fmt`: json/ndjson from `records(row)`, the other formats from `columns`."""
    if fmt in ("json", "ndjson"):
        from mocli.render import print_json, print_ndjson

        data = [select(records(r) if records else r, fields) for r in rows]
        print_json(data) if fmt == "json" else print_ndjson(data)
        return
    if fmt == "tsv":
        for r in rows:
            sys.stdout.write("\t".join(cell(c.data(r)) for c in columns) + "\n")
    elif fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([c.header for c in columns])
        writer.writerows([cell(c.data(r)) for c in columns] for r in rows)
    elif fmt == "markdown":
        if title:
            sys.stdout.write(f"# {cell(title)}\n\n")
        sys.stdout.write("| " + " | ".join(c.header for c in columns) + " |\n")
        sys.stdout.write("|" + "---|" * len(columns) + "\n")
        for r in rows:
            sys.stdout.write("| " + " | ".join(cell(c.data(r)).replace("|", "\\|") for c in columns) + " |\n")
    else:
        from mocli.render import console

        # crop=False: when even the columns never dropped are wider than the terminal, the terminal
        # wraps the line rather than Rich cutting an id off.
        console().print(fitted_table(rows, columns, title=title), crop=False)
    sys.stdout.flush()


def fitted_table(rows: Sequence[Any], columns: Sequence[Column], *, title: str | None = None,
                 width: int | None = None) -> Any:
    """A Rich table that fits the terminal: columns dropped (highest `drop` first) until every kept
    value is shown whole; ids, orders and tracking numbers never cut, long descriptions wrapped last."""
    from rich.table import Table
    from rich.text import Text

    from mocli.render import console, t

    width = width or console().width
    cells = [[c.shown(r) if c.shown else t(cell(c.data(r))) for c in columns] for r in rows]

    def length(value: Any) -> int:
        return Text(value).cell_len if isinstance(value, str) else value.cell_len

    need = [max([len(c.header)] + [length(row[i]) for row in cells]) for i, c in enumerate(columns)]
    keep = list(range(len(columns)))

    # A wrapped column needs a readable width (24 cells); every other column its longest value whole.
    def total(kept: list[int]) -> int:
        return sum(min(need[i], 24) if columns[i].wrap else need[i] for i in kept) + 3 * (len(kept) - 1)

    for i in sorted((i for i, c in enumerate(columns) if c.drop), key=lambda i: -columns[i].drop):
        if total(keep) <= width:
            break
        keep.remove(i)
    order = [i for i in keep if not columns[i].wrap] + [i for i in keep if columns[i].wrap]
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False,
                  width=total(keep) if total(keep) > width else None)
    for i in order:
        c = columns[i]
        if c.wrap:
            table.add_column(c.header, overflow="fold", ratio=1)
        else:
            table.add_column(c.header, no_wrap=True, min_width=need[i])
    for row in cells:
        table.add_row(*(row[i] for i in order))
    return table
