"""`mocli new-case --ticket ID` with Zendesk: the case note and macro, against a local Zendesk."""

from __future__ import annotations

import json

import pytest

from fixtures.crm.harness import load
from fixtures.crm.localserver import LocalServer
from mocli.commands.ticket import offer_ticket_update
from mocli.errors import ConfigError
from mocli.render.case_note import case_note


def zendesk(cfg):
    """A local Zendesk with one active macro per configured outcome and ticket 48213."""
    # one per title: several outcomes and resolutions share a macro
    titles = list(dict.fromkeys(o.macro for o in [*cfg.messages.outcomes.values(),
                                                  *cfg.messages.resolutions.values()]))
    macros = [{"id": 7000 + i, "title": t, "active": True} for i, t in enumerate(titles)]

    def route(req):
        if req.headers.get("Authorization", "").split()[0] != "Basic":
            return 401, {"error": "Couldn't authenticate you"}
        if req.path == "/api/v2/macros/active.json":
            return 200, {"macros": macros, "next_page": None, "count": len(macros)}
        if req.path.startswith("/api/v2/tickets/48213/macros/") and req.path.endswith("/apply.json"):
            return 200, load("zendesk_macro_apply.json")
        if req.path == "/api/v2/tickets/48213.json":
            return 200, load("zendesk_ticket.json")
        return 404, {"error": "RecordNotFound", "description": "Not found"}
    return LocalServer(route)


def settings_toml(conf, url):
    (conf / "settings.toml").write_text(
        f'[providers.settings.zendesk]\nbase_url = "{url}"\nemail = "api@shop.example"\n'
        'token_env = "TEST_ZD_TOKEN"\n', encoding="utf-8")


@pytest.fixture
def demo_case(cli):
    result = cli("new-case", "--no-input", "--json", "--customer", "ava.thompson@example.com", "--order", "1001",
                 "--address-confirmed", "yes", "--received-by-someone-else", "no", "--checked-drop-off-spots", "yes",
                 "--theft-in-area", "no", "--package-found", "no")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_note_summarises_the_case(demo_case):
    note = case_note(demo_case)
    assert demo_case["id"] in note and "Ava Thompson" in note and "#1001" in note
    assert f"macro: {demo_case['decision']['macro']}" in note
    assert "checked drop off spots: yes" in note


HOSTILE = "Ava\x1b]0;owned\x07 \x1b[2JThompson\x00\x9b31m\u202eevil\u202c"


def test_the_note_sent_to_zendesk_is_the_sanitised_text_the_terminal_shows(cfg, demo_case, monkeypatch):
    from mocli.render import sanitize

    demo_case["customer"]["name"] = HOSTILE
    demo_case["answers"]["notes"] = "porch\x1b[31m red\x00 \x85next"
    monkeypatch.setenv("TEST_ZD_TOKEN", "t")
    with zendesk(cfg) as srv:
        cfg.settings.providers.settings["zendesk"] = {"base_url": srv.url, "email": "a@b.c",
                                                      "token_env": "TEST_ZD_TOKEN"}
        offer_ticket_update(cfg, demo_case, "48213", lambda p: True)
    body = [r.json() for r in srv.requests if r.method == "PUT"][0]["ticket"]["comment"]["body"]
    for bad in ("\x1b", "\x00", "\x9b", "\x85", "\u202e", "\u202c", "\x07"):
        assert bad not in body, repr(bad)
    assert f"Customer: {sanitize(HOSTILE)} <" in body and "notes: porch red next" in body


def test_agent_says_no_nothing_is_sent(cfg, demo_case, mocli_env, monkeypatch):
    monkeypatch.setenv("TEST_ZD_TOKEN", "t")
    with zendesk(cfg) as srv:
        cfg.settings.providers.settings["zendesk"] = {"base_url": srv.url, "email": "a@b.c",
                                                      "token_env": "TEST_ZD_TOKEN"}
        prompts = []
        assert offer_ticket_update(cfg, demo_case, "48213", lambda p: prompts.append(p) or False) is None
    assert srv.requests == [] and "#48213" in prompts[0] and demo_case["decision"]["macro"] in prompts[0]


def test_agent_confirms_note_then_macro_are_sent(cfg, demo_case, monkeypatch):
    monkeypatch.setenv("TEST_ZD_TOKEN", "t")
    with zendesk(cfg) as srv:
        cfg.settings.providers.settings["zendesk"] = {"base_url": srv.url, "email": "a@b.c",
                                                      "token_env": "TEST_ZD_TOKEN"}
        sent = offer_ticket_update(cfg, demo_case, "#48213", lambda p: True)
    puts = [r.json() for r in srv.requests if r.method == "PUT"]
    assert puts[0] == {"ticket": {"comment": {"body": case_note(demo_case), "public": False}}}
    assert puts[1]["ticket"]["status"] == "pending"
    assert sent["note"] == puts[0] and sent["macro"] == demo_case["decision"]["macro"]


def test_the_helpdesk_checks_then_posts_a_note_and_the_macro_to_the_ticket(cfg, demo_case, monkeypatch):
    from mocli.providers import helpdesk

    monkeypatch.setenv("TEST_ZD_TOKEN", "t")
    with zendesk(cfg) as srv:
        cfg.settings.providers.settings["zendesk"] = {"base_url": srv.url, "email": "a@b.c",
                                                      "token_env": "TEST_ZD_TOKEN"}
        update = helpdesk.ticket_update(cfg, demo_case, " #48213")
        assert (update.ticket, update.macro, srv.requests) == ("48213", demo_case["decision"]["macro"], [])
        sent = update.send("the case, in a few lines")
    puts = [r.json() for r in srv.requests if r.method == "PUT"]
    assert puts[0] == {"ticket": {"comment": {"body": "the case, in a few lines", "public": False}}}
    assert sent["ticket"] == "48213" and sent["macro_changes"] == puts[1]


def test_a_case_without_a_macro_is_refused_before_asking(cfg, demo_case, monkeypatch):
    from mocli.providers import helpdesk

    monkeypatch.setenv("TEST_ZD_TOKEN", "t")
    cfg.settings.providers.settings["zendesk"] = {"base_url": "http://127.0.0.1:1", "email": "a@b.c",
                                                  "token_env": "TEST_ZD_TOKEN"}
    demo_case["decision"]["macro"] = None
    with pytest.raises(ConfigError, match="no macro"):
        helpdesk.ticket_update(cfg, demo_case, "48213")


def test_the_ticket_commands_are_glue_over_the_helpdesk():
    from test_architecture import imports_of, module_files

    known = module_files()
    for name in ("mocli.commands.ticket", "mocli.commands.new_case_run", "mocli.commands.macros"):
        assert not {m for m in imports_of(name, known[name], known) if m.startswith("mocli.providers.crm")}, name


def test_without_a_helpdesk_it_says_how_to_configure_one(cfg, demo_case):
    with pytest.raises(ConfigError, match=r"providers.settings.zendesk"):
        offer_ticket_update(cfg, demo_case, "48213", lambda p: True)


def test_new_case_with_ticket_posts_to_zendesk(cli, cfg, mocli_env, monkeypatch):
    monkeypatch.setenv("TEST_ZD_TOKEN", "t")
    with zendesk(cfg) as srv:
        settings_toml(mocli_env["conf"], srv.url)
        result = cli("new-case", "--no-input", "--json", "--ticket", "48213", "--update-ticket",
                     "--customer", "ben.carter@example.com", "--order", "1003", "--address-confirmed", "yes")
    assert result.code == 0, result.err
    case = json.loads(result.out)
    assert case["ticket"] == "48213"
    puts = [r.json() for r in srv.requests if r.method == "PUT"]
    assert len(puts) == 2 and case["id"] in puts[0]["ticket"]["comment"]["body"]


def test_no_input_never_writes_to_the_ticket_without_update_ticket(cli, cfg, mocli_env, monkeypatch):
    monkeypatch.setenv("TEST_ZD_TOKEN", "t")
    with zendesk(cfg) as srv:
        settings_toml(mocli_env["conf"], srv.url)
        result = cli("new-case", "--no-input", "--ticket", "48213", "--customer", "ben.carter@example.com",
                     "--order", "1003", "--address-confirmed", "yes")
    assert result.code == 0, result.err
    assert [r for r in srv.requests if r.method == "PUT"] == []
    assert "--update-ticket" in result.out


def zendesk_down():
    """A Zendesk that answers every call with 500 (down for maintenance)."""
    return LocalServer(lambda req: (500, {"error": "InternalError", "description": "down"}))


def test_a_failed_ticket_update_keeps_the_case_exits_3_and_says_how_to_retry(cli, cfg, mocli_env, monkeypatch):
    monkeypatch.setenv("TEST_ZD_TOKEN", "t")
    with zendesk_down() as srv:
        settings_toml(mocli_env["conf"], srv.url)
        result = cli("new-case", "--no-input", "--json", "--ticket", "48213", "--update-ticket",
                     "--customer", "ben.carter@example.com", "--order", "1003", "--address-confirmed", "yes")
    assert result.code == 3, result.err
    case = json.loads(result.out)
    assert case["ticket_update"]["status"] == "failed" and case["ticket_update"]["error"]
    assert case["ticket_update"]["retry"] == f"mocli ticket post {case['id']}"
    assert f"mocli ticket post {case['id']}" in result.err and result.err.count("\n") == 1
    saved = cli("case", case["id"], "--json")
    assert saved.code == 0 and json.loads(saved.out)["id"] == case["id"]  # the case itself is kept
    assert "ticket_update" not in json.loads(saved.out)  # a run's outcome, not part of the case record

    # The retry, once Zendesk is back, posts the note and the macro.
    with zendesk(cfg) as srv:
        settings_toml(mocli_env["conf"], srv.url)
        retry = cli("ticket", "post", case["id"][-5:])
    assert retry.code == 0, retry.err
    puts = [r.json() for r in srv.requests if r.method == "PUT"]
    assert len(puts) == 2 and case["id"] in puts[0]["ticket"]["comment"]["body"]


def test_json_says_the_ticket_was_updated_or_not_asked(cli, cfg, mocli_env, monkeypatch):
    monkeypatch.setenv("TEST_ZD_TOKEN", "t")
    args = ("new-case", "--no-input", "--json", "--ticket", "48213", "--customer", "ben.carter@example.com",
            "--order", "1003", "--address-confirmed", "yes")
    with zendesk(cfg) as srv:
        settings_toml(mocli_env["conf"], srv.url)
        updated = cli(*args, "--update-ticket")
        not_asked = cli(*args)
    assert updated.code == 0 and json.loads(updated.out)["ticket_update"]["status"] == "updated"
    assert not_asked.code == 0 and json.loads(not_asked.out)["ticket_update"]["status"] == "not_updated"


def test_ticket_post_on_a_case_without_a_ticket_is_a_usage_error(cli, demo_case):
    r = cli("ticket", "post", demo_case["id"])
    assert r.code == 2 and "--ticket" in r.err and r.err.count("\n") == 1
