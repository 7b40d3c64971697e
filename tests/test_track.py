"""`mocli track` end to end: demo numbers, bad numbers, JSON/NDJSON, exit codes, a real adapter."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from fixtures.carrier_http import JsonHandler, serve_carrier

FIX = Path(__file__).parent / "fixtures" / "carriers"
KEYS = {"tracking_number", "carrier", "status", "estimated_delivery", "delivered_at", "events",
        "proof_of_delivery", "error", "candidates"}


def test_demo_delivered_number_as_json(cli):
    r = cli("track", "1Z4E57A20368154024", "--json")
    assert r.code == 0, r.err
    [obj] = json.loads(r.out)
    assert KEYS <= obj.keys()
    assert obj["carrier"] == "ups" and obj["status"] == "delivered" and obj["error"] is None
    assert obj["proof_of_delivery"]["photo_available"] is True
    assert obj["delivered_at"].endswith("-05:00")
    assert {"at", "status", "description", "location"} <= obj["events"][0].keys()
    assert obj["candidates"][0]["carrier"] == "ups"


def test_batch_never_stops_and_exit_code_reflects_the_worst(cli):
    r = cli("track", "1Z4E57A20368154024", "123456789012", "--json")  # second: valid FedEx, not in demo
    assert r.code == 1
    objs = json.loads(r.out)
    assert [o["error"] and o["error"]["code"] for o in objs] == [None, "not_found"]
    r = cli("track", "1Z4E57A20368154025", "794123300255", "--json")  # first: one digit changed
    assert r.code == 2
    bad, good = json.loads(r.out)
    assert bad["error"]["code"] == "probably_mistyped" and "UPS" in bad["error"]["message"]
    assert bad["candidates"][0]["check_digit"] == "invalid"
    assert good["status"] == "delivered"
    assert "probably mistyped" in r.err


def test_stdin_and_ndjson(cli):
    numbers = "1Z4E57A20368154024\n\n# a comment\n794123300255\n4523971130\n"
    r = cli("track", "-", "--format", "ndjson", stdin=numbers)
    assert r.code == 0, r.err
    lines = [json.loads(x) for x in r.out.splitlines()]
    assert sorted(o["tracking_number"] for o in lines) == ["1Z4E57A20368154024", "4523971130", "794123300255"]
    assert {o["carrier"] for o in lines} == {"ups", "fedex", "dhl"}


def test_unknown_format_and_carrier_override(cli):
    r = cli("track", "hello-world", "--json")
    assert r.code == 2
    assert json.loads(r.out)[0]["error"]["code"] == "invalid_number"
    r = cli("track", "1Z4E57A20368154024", "--carrier", "pigeon")
    assert r.code == 2 and "unknown carrier" in r.err


def test_human_view_shows_status_and_hides_nothing_dangerous(cli):
    r = cli("track", "1Z4E57A20368154024", "781004559026")
    assert r.code == 0, r.err
    assert "DELIVERED" in r.out and "EXCEPTION" in r.out
    assert "\x1b" not in r.out  # not a terminal: no escape sequences


def test_empty_stdin_is_invalid_input(cli):
    r = cli("track", "-", stdin="\n")
    assert r.code == 2 and "no tracking numbers" in r.err


# ----------------------------------------------------------------- a real adapter over real HTTP


class _Ups(JsonHandler):
    def do_POST(self):  # token
        self._send(200, {"access_token": "tok", "expires_in": 3600})

    def do_GET(self):
        body = json.loads((FIX / "ups.json").read_text())
        if self.headers.get("Authorization") != "Bearer tok":
            self._send(401, {})
        elif "1Z999AA10123456784" in self.path:
            self._send(200, body["delivered"]["body"])
        else:
            self._send(404, body["not_found"]["body"])



@pytest.fixture
def ups_server(mocli_env, monkeypatch):
    yield from serve_carrier(_Ups, "ups", mocli_env, monkeypatch)


def test_real_ups_adapter_through_the_cli_and_save_proof(cli, ups_server, tmp_path):
    proof = tmp_path / "proof"
    r = cli("track", "1Z999AA10123456784", "1Z4E57A20368154024", "--json", "--save-proof", str(proof))
    assert r.code == 1  # the demo number is not known to "UPS" here
    found, missing = json.loads(r.out)
    assert found["status"] == "delivered" and found["source"] == "ups"
    assert sorted(p.name for p in proof.iterdir()) == ["1Z999AA10123456784-photo.png",
                                                       "1Z999AA10123456784-signature.gif"]
    assert found["proof_files"] and "iVBOR" not in r.out  # images go to files, never to stdout
    assert missing["error"]["code"] == "not_found"


def test_saved_proof_photos_are_private_and_a_given_folder_keeps_its_mode(cli, ups_server, tmp_path):
    old = os.umask(0o022)  # a permissive umask must not make a customer's door readable by others
    try:
        made = tmp_path / "made" / "proof"
        shared = tmp_path / "shared"
        shared.mkdir(mode=0o755)
        os.chmod(shared, 0o2775)
        (shared / "1Z999AA10123456784-photo.png").write_bytes(b"old")  # an earlier run's, 0644
        for folder in (made, shared):
            assert cli("track", "1Z999AA10123456784", "--save-proof", str(folder)).code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(made.stat().st_mode) == 0o700  # a folder mocli creates is private
    assert stat.S_IMODE(shared.stat().st_mode) == 0o2775  # the agent's own folder is left as it was
    for folder in (made, shared):
        files = sorted(folder.iterdir())
        assert len(files) == 2 and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files), files
    assert (shared / "1Z999AA10123456784-photo.png").read_bytes() != b"old"


def test_missing_secret_stops_the_run_naming_the_variable(cli, ups_server, monkeypatch):
    monkeypatch.delenv("UPS_CLIENT_SECRET")
    r = cli("track", "1Z999AA10123456784")
    assert r.code == 2
    assert "UPS_CLIENT_SECRET" in r.err and r.out == ""


def _env_drawing_messages_into(buffer, **terminal):
    """An Env whose message console draws into `buffer` as a terminal would (colour and cursor codes)."""
    from rich.console import Console

    from mocli.commands.env import Env

    class DrawsInto(Env):
        def console(self, stderr=False):
            if stderr:
                return Console(file=buffer, force_terminal=True, width=80)
            return super().console()

    return DrawsInto(**terminal)


def test_a_batch_shows_progress_when_the_envs_stderr_is_a_terminal(cli):
    import io

    drawn = io.StringIO()
    env = _env_drawing_messages_into(drawn, stderr_is_terminal=True)
    r = cli("track", "1Z4E57A20368154024", "794123300255", "--json", env=env)
    assert r.code == 0, r.err
    assert "tracking" in drawn.getvalue() and "2/2" in drawn.getvalue()
    assert [o["tracking_number"] for o in json.loads(r.out)] == ["1Z4E57A20368154024", "794123300255"]


def test_no_progress_in_a_pipe_nor_for_one_number(cli):
    import io

    piped = io.StringIO()
    on_a_terminal = io.StringIO()
    # stdin and stdout at a terminal, stderr piped (`mocli track ... 2>log`): nothing but the data.
    assert cli("track", "1Z4E57A20368154024", "794123300255", "--json",
               env=_env_drawing_messages_into(piped, stdin_is_terminal=True, stdout_is_terminal=True)).code == 0
    # One number: its result is the display.
    assert cli("track", "1Z4E57A20368154024", "--json",
               env=_env_drawing_messages_into(on_a_terminal, stderr_is_terminal=True)).code == 0
    assert piped.getvalue() == on_a_terminal.getvalue() == ""


def test_every_tracking_provider_answers_the_same_lookup(cfg):
    # One protocol for the demo data and the carriers: a lookup gives the tracking and its proof files.
    import asyncio
    from datetime import date

    from mocli.providers.base import Lookup
    from mocli.providers.registry import Providers

    demo = Providers(cfg, date(2026, 11, 27)).tracking_adapter("demo")
    found = asyncio.run(demo.lookup("1Z4E57A20368154024", "ups", proof=True))
    assert isinstance(found, Lookup) and found.files == []
    assert found.tracking.tracking_number == "1Z4E57A20368154024"


def test_a_batch_detects_each_number_once(cfg, monkeypatch):
    """Detection (format, check digits) runs once per number: the plan made to check the providers is
    the one the lookups use, not made again for every number."""
    import asyncio
    from datetime import date

    from mocli.lookups import tracking as run
    from mocli.providers.registry import Providers

    calls = []
    real = run.detect
    monkeypatch.setattr(run, "detect", lambda raw: calls.append(raw) or real(raw))
    raws = ["1Z4E57A20368154024", "794123300255", "hello-world"]
    results = asyncio.run(run.track_all(Providers(cfg, date(2026, 11, 27)), raws))
    assert [r.input for r in results] == raws
    assert [r.error_code for r in results] == [None, None, "invalid_number"]
    assert sorted(calls) == sorted(raws)
