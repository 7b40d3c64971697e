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


def _description(help_text: str) -> list[list[str]]:
    """The paragraphs of a help screen's description (between Usage and the first panel), as lines."""
    body = help_text.split("Usage:", 1)[1].split("╭", 1)[0]
    paragraphs, current = [], []
    for line in body.splitlines()[1:]:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            paragraphs.append(current)
            current = []
    return paragraphs + ([current] if current else [])


def test_every_help_screen_reads_well_at_80_columns(cli, monkeypatch):
    """Issue #16 item 11: no sentence broken mid-line, examples whole on their own lines, no <bool>."""
    monkeypatch.setenv("COLUMNS", "80")
    for command in [[]] + all_commands(cli):
        out = cli(*command, "--help").out
        where = f"`mocli {' '.join(command)} --help`"
        assert "<bool>" not in out, where
        assert max(len(line) for line in out.splitlines()) <= 80, where
        for paragraph in _description(out):
            examples = [line for line in paragraph if line.startswith("   ")]
            for line in examples:
                assert "mocli " in line and len(line) <= 78, f"{where}: {line.strip()}"
            prose = [line for line in paragraph if not line.startswith("   ")]
            for line, following in zip(prose, prose[1:], strict=False):
                # A line ends early only when the next word would not have fitted on it (Rich re-wrapping a
                # hard-wrapped docstring leaves short lines in the middle of a sentence).
                assert len(line) + 1 + len(following.split()[0]) > 79, f"{where}: broken after {line.strip()!r}"


def test_missing_answers_are_named_as_flags_in_every_command(cli):
    r = cli("new-case", "--no-input", "--customer", "ava.thompson@example.com")
    assert r.code == 2 and "--order" in r.err and "--address-confirmed" in r.err
    assert "address_confirmed" not in r.err
    r = cli("new-case", "--no-input", "--customer", "ava.thompson@example.com", "--order", "1001",
            "--address-confirmed", "yes")
    assert r.code == 2 and "--received-by-someone-else" in r.err and "received_by_someone_else" not in r.err


def test_shell_completion_script_is_offered(cli):
    for shell in ("bash", "zsh", "fish"):
        r = cli("completion", shell)
        assert r.code == 0, r.err
        assert "_MOCLI_COMPLETE" in r.out
    r = cli("completion", "tcsh")
    assert r.code == 2 and "bash" in r.err
