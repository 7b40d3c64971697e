"""Issue #16: the interface agents and leads live in all day (ids, tables, output formats, views)."""

from __future__ import annotations

import pytest

from test_cases_support import build, store


@pytest.fixture
def three(cfg):
    """Three cases whose ids share parts, as real ids from one day do."""
    return store([build(cfg, "#1001", case_id="MO-261202-K24AB"),
                  build(cfg, "#1002", case_id="MO-261202-QK24Z"),
                  build(cfg, "#1006", case_id="MO-261203-XY7PQ")])


# ------------------------------------------------------------------ item 6: ids like git short hashes


@pytest.mark.parametrize("ref", ["XY7", "261203", "261203-XY", "mo-261203-xy7pq", "Y7P"])
def test_any_unique_part_of_an_id_finds_the_case(cli, three, ref):
    r = cli("case", ref, "--json")
    assert r.code == 0, r.err
    assert '"id": "MO-261203-XY7PQ"' in r.out


def test_a_part_several_ids_share_is_exit_2_listing_them(cli, three):
    r = cli("case", "K24")
    assert r.code == 2
    assert "ambiguous" in r.err and "MO-261202-K24AB" in r.err and "MO-261202-QK24Z" in r.err
    assert "no case" not in r.err and "MO-261203-XY7PQ" not in r.err
    assert r.err.count("\n") == 1 and "Traceback" not in r.err
    for command in (("note", "261202", "text"), ("resolve", "261202", "--no-input")):
        r = cli(*command)
        assert r.code == 2 and "ambiguous" in r.err, command


def test_a_part_no_id_has_is_still_no_case(cli, three):
    r = cli("case", "K25")
    assert r.code == 1 and "no case 'K25'" in r.err
