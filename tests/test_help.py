"""Every command teaches: it has help with an example, and the README names it."""

from __future__ import annotations

import re

from conftest import REPO


def command_names(help_text: str) -> list[str]:
    """The names in the 'Commands' panel of a Typer help screen."""
    if "Commands" not in help_text:
        return []
    panel = help_text.split("Commands", 1)[1]
    return [n for n in re.findall(r"^│ (\S+)\s", panel, flags=re.M) if not n.startswith("-")]


def all_commands(cli) -> list[list[str]]:
    r = cli("--help")
    assert r.code == 0
    names = command_names(r.out)
    assert "new-case" in names
    commands = []
    for name in names:
        subs = command_names(cli(name, "--help").out)
        commands += [[name, s] for s in subs] or [[name]]
    return commands


def test_every_command_has_help_with_an_example_and_is_in_the_readme(cli):
    readme = (REPO / "README.md").read_text()
    for command in all_commands(cli):
        r = cli(*command, "--help")
        assert r.code == 0, command
        assert "Example" in r.out, f"`mocli {' '.join(command)} --help` shows no example"
        assert f"mocli {' '.join(command)}" in readme, f"`mocli {' '.join(command)}` is not in the README"


def test_exit_codes_are_documented_in_help(cli):
    r = cli("--help")
    for code in ("0", "1", "2", "130"):
        assert code in r.out


def test_version(cli):
    r = cli("--version")
    assert r.code == 0 and r.out.startswith("mocli ")


def test_unknown_option_is_a_usage_error(cli):
    r = cli("new-case", "--colour", "red")
    assert r.code == 2
    assert "colour" in r.err


def test_help_texts_lose_nothing_to_markup(cli):
    """Typer renders help as Rich markup: '[default: x]' in a help string would silently vanish."""
    for command in all_commands(cli):
        out = cli(*command, "--help").out
        assert not re.search(r"(?<=\s)\.(?=\s)", out), f"`mocli {' '.join(command)} --help` lost text"
