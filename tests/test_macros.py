"""`mocli macros export | diff [--apply]`: Zendesk macros and dynamic content in the documented shapes,
compared with and written to a local Zendesk that keeps what it is sent."""

from __future__ import annotations

import itertools
import json
import re
import stat

import pytest

from conftest import on_a_terminal
from fixtures.crm.localserver import LocalServer

CARRIER = "Retail::Missing Order – Carrier Investigation"
RESOLVED = "Retail::Missing Order – Resolved (Refund/Replacement)"

# Zendesk's documented objects (Support API reference: Macros; Dynamic Content Items; Item Variants).
MACRO_PROPERTIES = {"actions", "active", "created_at", "default", "description", "id", "position", "raw_title",
                    "restriction", "title", "updated_at", "url"}
MACRO_MANDATORY = {"title", "actions"}
# Actions reference: shared actions, plus the macro-only comment actions.
MACRO_ACTION_FIELDS = {"status", "type", "priority", "group_id", "assignee_id", "set_tags", "current_tags",
                       "remove_tags", "custom_status_id", "comment_value", "comment_value_html",
                       "comment_mode_is_public", "subject"}
MACRO_STATUSES = {"open", "pending", "hold", "solved"}  # macros don't take "new" or "closed"
ITEM_PROPERTIES = {"created_at", "default_locale_id", "id", "name", "outdated", "placeholder", "updated_at", "url",
                   "variants"}
ITEM_MANDATORY = {"name", "default_locale_id", "variants"}
VARIANT_PROPERTIES = {"active", "content", "created_at", "default", "id", "locale_id", "outdated", "updated_at",
                      "url"}
VARIANT_MANDATORY = {"content", "locale_id"}


def placeholder(name: str) -> str:
    """Zendesk derives an item's placeholder from its name."""
    return "{{dc." + name.lower().replace(" ", "_") + "}}"


def exported(cli, *args):
    r = cli("macros", "export", "--format", "zendesk", *args)
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_export_matches_zendesk_documented_objects(cli, cfg):
    data = exported(cli)
    items = {i["name"]: i for i in data["dynamic_content_items"]}
    for item in data["dynamic_content_items"]:
        assert ITEM_MANDATORY <= set(item) <= ITEM_PROPERTIES
        assert isinstance(item["default_locale_id"], int)
        variants = item["variants"]
        assert variants and all(VARIANT_MANDATORY <= set(v) <= VARIANT_PROPERTIES for v in variants)
        assert len({v["locale_id"] for v in variants}) == len(variants)  # one variant per locale
        [default] = [v for v in variants if v.get("default")]
        assert default["locale_id"] == item["default_locale_id"]
        assert all(isinstance(v["content"], str) and v["content"].strip() for v in variants)
    for macro in data["macros"]:
        assert MACRO_MANDATORY <= set(macro) <= MACRO_PROPERTIES
        for action in macro["actions"]:
            assert set(action) == {"field", "value"} and action["field"] in MACRO_ACTION_FIELDS
            assert isinstance(action["value"], str)
        fields = {a["field"]: a["value"] for a in macro["actions"]}
        assert fields.get("status", "open") in MACRO_STATUSES
        # The reply is a dynamic content placeholder naming an exported item.
        [name] = [n for n in items if placeholder(n) == fields["comment_value"]]
        assert "mocli" in fields["current_tags"].split()
    titles = [m["title"] for m in data["macros"]]
    assert CARRIER in titles and RESOLVED in titles  # the procedure's two names, en dash included
    assert len(titles) == len(set(titles)) == len({o.macro for o in cfg.messages.outcomes.values()}
                                                  | {o.macro for o in cfg.messages.resolutions.values()})
    assert len(items) == len(cfg.messages.outcomes) + len(cfg.messages.resolutions)


def test_every_macro_the_outcomes_use_sets_a_status_and_its_tags(cli, cfg):
    titles = {o.macro for o in cfg.messages.outcomes.values()} | {o.macro for o in cfg.messages.resolutions.values()}
    for macro in exported(cli)["macros"]:
        fields = {a["field"]: a["value"] for a in macro["actions"]}
        settings = cfg.messages.macros.get(macro["title"])
        assert settings is not None and settings.status, f"no [macros.\"{macro['title']}\"] status"
        assert fields["status"] == settings.status
        assert set(settings.tags) <= set(fields["current_tags"].split()) and "missing_order" in settings.tags
    assert titles <= set(cfg.messages.macros)


def test_export_texts_every_language_with_zendesk_placeholders(cli, cfg):
    data = exported(cli)
    item = next(i for i in data["dynamic_content_items"] if i["name"] == "mocli_outcome_carrier_investigation")
    by_locale = {v["locale_id"]: v["content"] for v in item["variants"]}
    assert set(by_locale) == {1, 16, 2}  # en-US (default), fr, es: Zendesk's documented ids
    assert by_locale[1].startswith("Hi {{ticket.requester.first_name}},")
    assert by_locale[16].startswith("Bonjour {{ticket.requester.first_name}},")
    assert by_locale[2].startswith("Hola, {{ticket.requester.first_name}}:")
    assert "Puis-je vous aider" in by_locale[16] and "[order_number]" in by_locale[16]
    for variant in (v for i in data["dynamic_content_items"] for v in i["variants"]):
        # No mocli placeholder is left for Zendesk to choke on: only its own, or a [marker] for the agent.
        assert not re.search(r"\{\{\s*(?!ticket\.|current_user\.)", variant["content"])


def test_export_maps_placeholders_and_locale_ids_from_settings(cli, mocli_env):
    (mocli_env["conf"] / "settings.toml").write_text(
        '[providers.settings.zendesk]\nsubdomain = "example"\nemail = "api@shop.example"\ntoken_env = "ZD"\n'
        'locale_ids = { fr = 1016 }\nplaceholders = { order_number = "{{ticket.ticket_field_360001}}" }\n')
    data = exported(cli)
    item = next(i for i in data["dynamic_content_items"] if i["name"] == "mocli_outcome_carrier_investigation")
    fr = next(v for v in item["variants"] if v["locale_id"] == 1016)
    assert "commande {{ticket.ticket_field_360001}}" in fr["content"]


def test_a_language_without_a_zendesk_locale_id_is_named(cli, mocli_env):
    (mocli_env["conf"] / "messages.toml").write_text(
        '[locales.de]\nclosing = "Kann ich sonst noch helfen?"\n'
        '[locales.de.outcomes.found]\ntemplate = "Hallo {{ first_name }}, schön!"\n')
    r = cli("macros", "export", "--format", "zendesk")
    assert r.code == 2 and "locale_ids" in r.err and "'de'" in r.err and "Traceback" not in r.err


def test_export_to_a_private_file(cli, tmp_path):
    out = tmp_path / "zendesk.json"
    r = cli("macros", "export", "--format", "zendesk", "--output", str(out))
    assert r.code == 0, r.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text(encoding="utf-8"))["macros"]
    assert cli("macros", "export", "--format", "freshdesk").code == 2


# ---------------------------------------------------------------- diff and apply against a local Zendesk


class FakeZendesk:
    """Active macros, locales and dynamic content as Zendesk documents them; keeps what it is sent."""

    def __init__(self, macros, items, locales=("en-US", "fr", "es"), refuse=False):
        ids = {"en-US": 1, "es": 2, "fr": 16, "de": 8}
        self.locales = [{"id": ids[t], "locale": t, "name": t} for t in locales]
        self.macros, self.items, self.refuse = macros, items, refuse
        self.ids = itertools.count(900)

    def route(self, req):
        if req.headers.get("Authorization", "").split()[0] != "Basic":
            return 401, {"error": "Couldn't authenticate you"}
        body = req.json()
        if req.method == "GET" and req.path == "/api/v2/macros/active":
            return 200, {"macros": [m for m in self.macros if m["active"]], "next_page": None,
                         "previous_page": None, "count": len(self.macros)}
        if req.method == "GET" and req.path == "/api/v2/locales":
            return 200, {"locales": self.locales}
        if req.method == "GET" and req.path == "/api/v2/dynamic_content/items":
            return 200, {"items": self.items, "next_page": None, "previous_page": None, "count": len(self.items)}
        if self.refuse:
            return 422, {"error": "RecordInvalid", "description": "Record validation errors"}
        if req.method == "POST" and req.path == "/api/v2/macros":
            macro = {**body["macro"], "id": next(self.ids), "url": "https://example.zendesk.com/api/v2/macros/x"}
            self.macros.append(macro)
            return 201, {"macro": macro}
        if req.method == "PUT" and (m := re.fullmatch(r"/api/v2/macros/(\d+)", req.path)):
            macro = next(x for x in self.macros if x["id"] == int(m.group(1)))
            macro.update(body["macro"])
            return 200, {"macro": macro}
        if req.method == "POST" and req.path == "/api/v2/dynamic_content/items":
            item = {**body["item"], "id": next(self.ids), "placeholder": placeholder(body["item"]["name"]),
                    "outdated": False}
            item["variants"] = [{**v, "id": next(self.ids)} for v in item["variants"]]
            self.items.append(item)
            return 201, {"item": item}
        if m := re.fullmatch(r"/api/v2/dynamic_content/items/(\d+)/variants(?:/(\d+))?", req.path):
            item = next(x for x in self.items if x["id"] == int(m.group(1)))
            if req.method == "POST":
                if any(v["locale_id"] == body["variant"]["locale_id"] for v in item["variants"]):
                    return 422, {"error": "RecordInvalid", "description": "Locale has already been taken"}
                variant = {**body["variant"], "id": next(self.ids)}
                item["variants"].append(variant)
                return 201, {"variant": variant}
            variant = next(v for v in item["variants"] if v["id"] == int(m.group(2)))
            variant.update(body["variant"])
            return 200, {"variant": variant}
        return 404, {"error": "RecordNotFound", "description": "Not found"}


def helpdesk(cfg):
    """One macro up to date but for its tags, one renamed by hand, one with an extra action; one
    dynamic content item with a stale French variant and no Spanish one."""
    from mocli.macros import export

    want = export(cfg)
    by_title = {m["title"]: m for m in want["macros"]}
    carrier = {**by_title[CARRIER], "id": 101, "active": True,
               "actions": [a for a in by_title[CARRIER]["actions"] if a["field"] != "current_tags"]
               + [{"field": "group_id", "value": "360000111"}, {"field": "current_tags", "value": "escalated"}]}
    renamed = {**by_title[RESOLVED], "id": 102, "active": True, "title": "Retail::Missing Order - Resolved"}
    other = {"id": 103, "title": "Returns::Label", "active": True, "actions": [{"field": "status", "value": "open"}]}
    item = json.loads(json.dumps(next(i for i in want["dynamic_content_items"]
                                      if i["name"] == "mocli_outcome_carrier_investigation")))
    item["id"] = 501
    item["variants"] = [{**v, "id": 600 + n} for n, v in enumerate(item["variants"]) if v["locale_id"] != 2]
    next(v for v in item["variants"] if v["locale_id"] == 16)["content"] = "Ancien texte"
    return FakeZendesk([carrier, renamed, other], [item])


@pytest.fixture
def zendesk_conf(mocli_env, monkeypatch):
    monkeypatch.setenv("TEST_ZD_TOKEN", "zd-token")

    def write(url):
        (mocli_env["conf"] / "settings.toml").write_text(
            f'[providers.settings.zendesk]\nbase_url = "{url}"\nemail = "api@shop.example"\n'
            'token_env = "TEST_ZD_TOKEN"\n', encoding="utf-8")
    return write


def test_diff_reports_missing_renamed_and_changed(cli, cfg, zendesk_conf):
    desk = helpdesk(cfg)
    with LocalServer(desk.route) as srv:
        zendesk_conf(srv.url)
        r = cli("macros", "diff", "--json")
    assert r.code == 0, r.err
    changes = {(c["what"], c["name"]): c for c in json.loads(r.out)["changes"]}
    carrier = changes[("macro", CARRIER)]
    assert carrier["kind"] == "changed" and carrier["id"] == 101
    assert any(d.startswith("tags missing: ") and "mocli" in d for d in carrier["details"])
    resolved = changes[("macro", RESOLVED)]
    assert resolved["kind"] == "renamed" and resolved["was"] == "Retail::Missing Order - Resolved"
    assert changes[("macro", "Retail::Missing Order – Found")]["kind"] == "missing"
    item = changes[("dynamic content", "mocli_outcome_carrier_investigation")]
    assert item["kind"] == "changed" and sorted(item["details"]) == ["locale 16: text differs", "locale 2: missing"]
    assert changes[("dynamic content", "mocli_resolution_lost_refund")]["kind"] == "missing"
    assert ("macro", "Returns::Label") not in changes  # not mocli's: left alone
    assert {r.method for r in srv.requests} == {"GET"}


def test_apply_without_a_terminal_needs_yes(cli, cfg, zendesk_conf):
    desk = helpdesk(cfg)
    with LocalServer(desk.route) as srv:
        zendesk_conf(srv.url)
        r = cli("macros", "diff", "--apply", "--no-input")
    assert r.code == 2 and "--yes" in r.err
    assert {r.method for r in srv.requests} <= {"GET"}


def test_apply_creates_and_updates_then_nothing_differs(cli, cfg, zendesk_conf):
    desk = helpdesk(cfg)
    with LocalServer(desk.route) as srv:
        zendesk_conf(srv.url)
        r = cli("macros", "diff", "--apply", "--yes", "--no-input")
        assert r.code == 0, r.err
        writes = [(q.method, q.path, q.json()) for q in srv.requests if q.method != "GET"]
        again = cli("macros", "diff", "--json")
    assert {c["kind"] for c in json.loads(again.out)["changes"]} == {"same"}
    # Documented request bodies: {"item": ...}, {"variant": ...}, {"macro": ...}.
    posts = [w for w in writes if w[0] == "POST" and w[1] == "/api/v2/dynamic_content/items"]
    assert posts and all(ITEM_MANDATORY <= set(b["item"]) for _, _, b in posts)
    assert ("POST", "/api/v2/dynamic_content/items/501/variants") in [(m, p) for m, p, _ in writes]
    put_variant = next(b for m, p, b in writes if m == "PUT" and p.startswith("/api/v2/dynamic_content/items/501/"))
    assert put_variant["variant"]["content"].startswith("Bonjour {{ticket.requester.first_name}}")
    # Replies' dynamic content is written before the macros that name it.
    first_macro = next(n for n, w in enumerate(writes) if "/macros" in w[1])
    assert all("/dynamic_content/" in w[1] for w in writes[:first_macro])
    carrier = next(m for m in desk.macros if m["id"] == 101)
    fields = {a["field"]: a["value"] for a in carrier["actions"]}
    assert fields["group_id"] == "360000111"  # the admins' own action is kept
    assert {"escalated", "mocli", "carrier_trace"} <= set(fields["current_tags"].split())
    assert next(m for m in desk.macros if m["id"] == 102)["title"] == RESOLVED
    assert next(m for m in desk.macros if m["id"] == 103)["actions"] == [{"field": "status", "value": "open"}]
    assert "created macro Retail::Missing Order – Found" in r.err


def test_a_locale_the_helpdesk_lacks_is_left_out_and_named(cli, cfg, zendesk_conf):
    desk = FakeZendesk([], [], locales=("en-US", "fr"))
    with LocalServer(desk.route) as srv:
        zendesk_conf(srv.url)
        r = cli("macros", "diff", "--json")
    out = json.loads(r.out)
    assert r.code == 0 and out["skipped_locales"] == ["es"]


def test_a_refused_change_is_one_line_and_exit_1(cli, cfg, zendesk_conf):
    desk = FakeZendesk([], [], refuse=True)
    with LocalServer(desk.route) as srv:
        zendesk_conf(srv.url)
        r = cli("macros", "diff", "--apply", "--yes", "--no-input")
    assert r.code == 1 and "refused the change" in r.err and "Traceback" not in r.err


def test_diff_without_a_helpdesk_says_how_to_configure_one(cli):
    r = cli("macros", "diff")
    assert r.code == 2 and "providers.settings.zendesk" in r.err


def test_diff_for_people_names_each_difference(cli, cfg, zendesk_conf):
    desk = helpdesk(cfg)
    with LocalServer(desk.route) as srv:
        zendesk_conf(srv.url)
        r = cli("macros", "diff")
    assert r.code == 0 and r.out == ""  # the report is for the agent, on stderr
    was = "(in the helpdesk as \u201cRetail::Missing Order - Resolved\u201d)"
    assert f"renamed  macro            {RESOLVED}  {was}" in r.err
    assert "missing  macro            Retail::Missing Order – Found" in r.err
    assert "locale 16: text differs" in r.err and "1 renamed, 2 changed" in r.err


@pytest.mark.parametrize("answer,writes", [("y", True), ("n", False), ("\r", False)])
def test_apply_on_a_terminal_asks_first(cli, cfg, zendesk_conf, answer, writes):
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    desk = helpdesk(cfg)
    with LocalServer(desk.route) as srv:
        zendesk_conf(srv.url)
        with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
            inp.send_text(answer)
            inp.close()
            r = cli("macros", "diff", "--apply", env=on_a_terminal())
    sent = [q for q in srv.requests if q.method != "GET"]
    if writes:
        assert r.code == 0 and sent, r.err
    else:  # the default is no: nothing is written
        assert r.code == 130 and sent == [] and "nothing was changed" in r.err


# ---------------------------------------------------------------- an exported macro applied by mocli


def exported_macro_ticket(comment_body):
    """Ticket 48213 and a macro whose reply is mocli's exported dynamic content, as Zendesk previews it."""
    import httpx

    from fixtures.crm.harness import Server, load, reply

    def route(request: httpx.Request):
        path = request.url.path
        if path == "/api/v2/tickets/48213/macros/360011110001/apply.json":
            body = load("zendesk_macro_apply.json")
            body["result"]["comment"] = {"body": comment_body, "public": True}
            return reply(200, body)
        if path == "/api/v2/tickets/48213.json":
            return reply(200, "zendesk_ticket.json")
        return reply(404, "zendesk_404.json")
    return Server(route)


@pytest.mark.parametrize("comment,sent", [
    # mocli's reply has [markers] for facts only mocli knows: mocli's own full message goes instead.
    ("Bonjour Hana,\n\nMerci ... votre commande [order_number] ... d'ici le [follow_up_date].", "mocli"),
    ("We've opened a trace with the carrier.", "macro"),  # a helpdesk's own macro reply is left as it is
])
def test_a_reply_with_blanks_is_replaced_by_the_case_message(monkeypatch, comment, sent):
    from fixtures.crm.harness import TIERS, run
    from mocli.providers.crm.zendesk import ZendeskProvider

    monkeypatch.setenv("ZD", "t")
    desk = ZendeskProvider({"subdomain": "example", "email": "a@b.c", "token_env": "ZD"}, TIERS)
    message = "Bonjour Hana,\n\nMerci ... votre commande #1006 ... d'ici le mardi 1 décembre."
    server = exported_macro_ticket(comment)
    run(lambda: desk.post_case_to_ticket("48213", "note", 360011110001, reply=message), server)
    puts = [json.loads(r.content) for r in server.requests if r.method == "PUT"]
    body = puts[1]["ticket"]["comment"]["body"]
    assert body == (message if sent == "mocli" else comment) and puts[1]["ticket"]["comment"]["public"] is True
