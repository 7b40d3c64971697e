"""The cheap paths that keep big batches and start-up fast, checked for what they must still do."""

from __future__ import annotations

import asyncio

from mocli.commands.track import _Lines


class CountingStream:
    def __init__(self) -> None:
        self.writes: list[str] = []
        self.flushes = 0

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        self.flushes += 1


def test_ndjson_results_arriving_together_share_one_write_and_later_ones_still_stream():
    out = CountingStream()
    lines = _Lines(out, every=0.01)

    async def batch() -> list[int]:
        seen = []
        for n in range(3):  # three results within the interval
            lines.add(f'{{"n": {n}}}\n')
            await asyncio.sleep(0)
        seen.append(len(out.writes))  # nothing written yet: still gathering
        await asyncio.sleep(0.05)  # past the interval: the batch so far is out, before the run ends
        seen.append(len(out.writes))
        lines.add('{"n": 3}\n')
        await asyncio.sleep(0.05)
        seen.append(len(out.writes))
        lines.add('{"n": 4}\n')  # the last result: the run ends before its interval does
        return seen

    assert asyncio.run(batch()) == [0, 1, 2]
    lines.flush()  # what the command does after the loop (and on Ctrl-C)
    assert out.writes == ['{"n": 0}\n{"n": 1}\n{"n": 2}\n', '{"n": 3}\n', '{"n": 4}\n']
    assert out.flushes == 3
    lines.flush()
    assert len(out.writes) == 3  # nothing pending, nothing written


def test_ndjson_batch_output_is_every_result_once_in_completion_order(cli, monkeypatch):
    from mocli.tracking.detect import ups_check

    numbers = [f"1Z999AA1{i:09d}" for i in range(30)]
    numbers = [n + str(ups_check(n[2:])) for n in numbers]
    r = cli("track", "-", "--format", "ndjson", stdin="\n".join(numbers) + "\n")
    import json

    lines = [json.loads(x) for x in r.out.splitlines()]
    assert sorted(o["tracking_number"] for o in lines) == sorted(numbers)


HEAVY = ("questionary", "prompt_toolkit", "httpx", "tinydb", "pydantic", "jinja2", "holidays", "orjson",
         "filelock", "dateutil")


def loaded_by(mocli_env, *args: str, watch: tuple[str, ...]) -> list[str]:
    """The modules of `watch` that `mocli ARGS` has loaded when it finishes, run in a fresh interpreter."""
    import os
    import subprocess
    import sys

    probe = ("import sys, runpy\n"
             f"sys.argv = ['mocli', *{list(args)!r}]\n"
             "try:\n    runpy.run_module('mocli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             f"print('LOADED:' + ','.join(m for m in {watch!r} if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "MOCLI_HOME": str(mocli_env["home"])})
    assert "LOADED:" in run.stdout, run.stderr
    loaded = run.stdout.rsplit("LOADED:", 1)[1].strip()
    return loaded.split(",") if loaded else []


def test_mocli_help_loads_no_heavy_module(mocli_env):
    assert loaded_by(mocli_env, "--help", watch=HEAVY) == []


def test_cases_help_loads_no_heavy_module_but_the_one_typer_needs(mocli_env):
    # Typer builds a command's parameters with pydantic, so any command's --help loads it (a bare Typer
    # app's too), and draws the help with Rich; nothing else heavy, and none of mocli's own models, store,
    # config or HTTP code.
    watch = tuple(m for m in HEAVY if m != "pydantic") + ("mocli.models", "mocli.store", "mocli.providers.http",
                                                         "mocli.config")
    assert loaded_by(mocli_env, "cases", "--help", watch=watch) == []
    assert loaded_by(mocli_env, "--help", watch=watch) == []


def test_cases_on_an_empty_store_loads_neither_the_case_models_nor_a_table(mocli_env):
    watch = ("mocli.models", "rich.table", "httpx", "jinja2", "holidays", "questionary")
    assert loaded_by(mocli_env, "cases", watch=watch) == []


def test_cases_on_an_empty_store_loads_no_lock_module(mocli_env):
    # Reading a store that has no file yet takes no lock, so it need not load the lock library (~49 M
    # instructions of `mocli cases`' start-up); the first change to the store loads it and locks.
    assert loaded_by(mocli_env, "cases", watch=("filelock",)) == []
    assert loaded_by(mocli_env, "cases", "--json", watch=("filelock",)) == []


def test_the_store_locks_on_its_first_change_and_still_waits_for_another_process(tmp_path):
    from filelock import FileLock

    from mocli.errors import StoreBusy
    from mocli.store.file_backend import LocalCaseStore

    store = LocalCaseStore(tmp_path / "cases.db", lock_timeout=0.2)
    with FileLock(str(tmp_path / "cases.db.lock")):  # another process holding the store
        try:
            with store.storage.locked():
                raise AssertionError("took a lock another process holds")
        except StoreBusy as exc:
            assert "busy" in str(exc)
    with store.storage.locked(), store.storage.locked():  # re-entrant within this process, as before
        assert (tmp_path / "cases.db.lock").exists()


def test_a_listing_reads_only_settings_toml_and_another_file_when_it_first_needs_it(mocli_env, monkeypatch):
    # Parsing messages.toml and the rest cost a listing ~46 M instructions it never used (issue #14).
    import pytest

    from mocli import config
    from mocli.errors import ConfigError

    read = []
    real = config._read_toml
    monkeypatch.setattr(config, "_read_toml", lambda path: read.append(path.name) or real(path))
    (mocli_env["conf"] / "tiers.toml").write_text('[tiers.VIP]\non_lost = "shrug"\n', encoding="utf-8")
    (mocli_env["conf"] / "messages.toml").write_text("[outcomes\n", encoding="utf-8")
    cfg = config.load_config(calendar=False, templates=False, lazy=True)  # as `mocli cases` loads it
    assert set(read) == {"settings.toml"}
    assert str(mocli_env["conf"] / "tiers.toml") in map(str, cfg.files["tiers.toml"])  # still listed
    assert cfg.policy.fraud is not None and "policy.toml" in read  # read, with its layers, when first needed
    with pytest.raises(ConfigError, match=r"tiers.toml: tiers.VIP.on_lost"):
        _ = cfg.tiers
    with pytest.raises(ConfigError, match=r"messages.toml: not valid TOML"):
        _ = cfg.messages
    read.clear()
    with pytest.raises(ConfigError, match=r"messages.toml: not valid TOML"):
        config.load_config()  # the wizard's load still reads every file at once, and refuses it
    assert set(read) >= {"settings.toml", "tiers.toml", "messages.toml"}


def test_a_command_builds_only_its_own_click_command(cli, monkeypatch):
    # Typer turns every registered command into a Click command before parsing: the other commands'
    # were ~72 M instructions of each run's start-up (issue #14). The one named is built, and the root's.
    import typer.main

    built = []
    real = typer.main.get_command_from_info
    monkeypatch.setattr(typer.main, "get_command_from_info",
                        lambda command_info, **kw: built.append(command_info.name) or real(command_info, **kw))
    r = cli("cases", "--json")
    assert r.code == 0, r.err
    assert built == ["cases"]
    built.clear()
    r = cli("config", "path")  # a group: its own commands only
    assert r.code == 0, r.err
    assert "cases" not in built and "path" in built
    built.clear()
    r = cli("--debug", "cases", "--json")  # a root option first: the whole app, as before
    assert r.code == 0, r.err
    assert {"cases", "track", "new-case"} <= set(built)


def test_commands_behave_the_same_built_alone(cli):
    r = cli("cases", "--bogus")
    assert r.code == 2 and "--bogus" in r.err
    r = cli("no-such-command")
    assert r.code == 2 and "no-such-command" in r.err
    r = cli("cases", "--help")
    assert r.code == 0 and "cases [OPTIONS]" in r.out and "--overdue" in r.out
    r = cli("--version")
    assert r.code == 0 and r.out.startswith("mocli ")
    r = cli("config")
    assert "path" in r.out + r.err  # a group with no command shows its commands


def test_known_issues_are_still_validated_when_a_command_reads_them(mocli_env):
    import pytest

    from mocli.config import load_config
    from mocli.errors import ConfigError

    (mocli_env["conf"] / "known_issues.toml").write_text(
        '[[issues]]\nid = "KI-1"\nnote = "late"\nstart = "not a date"\n', encoding="utf-8")
    cfg = load_config(calendar=False, templates=False, lazy=True)  # as `mocli cases` loads it
    with pytest.raises(ConfigError, match=r"known_issues.toml: issues.0.start"):
        _ = cfg.known_issues
    with pytest.raises(ConfigError, match=r"known_issues.toml: issues.0.start"):
        load_config()  # the wizard's load still refuses it at once


def test_a_run_that_sends_no_request_builds_no_http_client(mocli_env):
    # The demo data answers without HTTP, and a mistyped number is refused before any: neither pays
    # for the TLS context (the CA bundle), which is what certifi is loaded for.
    assert loaded_by(mocli_env, "track", "--json", "1Z4E57A20368154024", "not-a-number", watch=("certifi",)) == []


def test_the_http_client_is_made_at_the_first_request_and_closed_with_the_run():
    import httpx

    from mocli.providers import http

    async def run():
        async with http.run_session(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={}))) as s:
            before = s._client
            await s.provider("acme", base_url="http://acme.test").get("/x")
            return before, s.client

    before, client = asyncio.run(run())
    assert before is None and client.is_closed


def test_cases_on_the_team_store_loads_no_local_backend(mocli_env, team_url):
    # `cases --overdue` on PostgreSQL: nothing of the local journal file (TinyDB, its lock) is loaded.
    assert loaded_by(mocli_env, "cases", "--overdue", "--json", watch=("tinydb", "filelock", "mocli.store.local")) \
        == []
