"""End to end, as a person runs it: the installed `mocli new-case` in a pseudo-terminal."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pexpect
import pytest

DOWN = "\x1b[B"


def mocli_exe() -> str:
    exe = Path(sys.executable).with_name("mocli")
    found = str(exe) if exe.exists() else shutil.which("mocli")
    if not found:
        pytest.fail("the mocli console script is not installed (pip install -e .)")
    return found


def spawn(*args: str) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "50"}
    child = pexpect.spawn(mocli_exe(), list(args), env=env, encoding="utf-8", timeout=20, dimensions=(50, 100))
    return child


def test_new_case_in_a_terminal(mocli_env):
    child = spawn("new-case")
    child.expect("Step 1 of 9")
    child.expect("Customer email or id")
    child.send("ben.carter@example.com\r")
    child.expect("Standard")
    child.expect("Order number")
    child.send("1002\r")
    child.expect("794123300255")
    child.expect("confirm this delivery address")
    child.send("\r")  # yes
    child.expect("Could someone else have received it")
    child.send("n")  # no (step 5's menus answer to y / n; Enter alone picks nothing)
    child.expect("checked the usual drop-off spots")
    child.send("y")
    child.expect("parcel thefts")
    child.send(DOWN + DOWN + "\r")  # arrows and Enter work too: nothing, yes, no
    child.expect("Has the package been found")
    child.send("n")  # no, not yet
    child.expect("Notes for the case")
    child.send("Neighbour M. Lopez away until Monday\r")
    child.expect("Save this case")
    child.send("\r")
    child.expect("Retail::Missing Order – Carrier Investigation")
    child.expect(r"Saved case (MO-\d{6}-[0-9A-Z]{5})")
    case_id = child.match.group(1)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    stored = (mocli_env["home"] / "cases.db").read_text()
    assert case_id in stored and "Neighbour M. Lopez away until Monday" in stored


def test_ctrl_c_in_a_terminal_exits_130_and_keeps_a_draft(mocli_env):
    child = spawn("new-case", "--customer", "ava.thompson@example.com")
    child.expect("Order number")
    child.send("1001\r")
    child.expect("confirm this delivery address")
    child.sendintr()
    child.expect("mocli new-case --resume")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    [path] = (mocli_env["home"] / "drafts").glob("*.json")
    draft = json.loads(path.read_text())
    assert draft["answers"] == {"customer": "ava.thompson@example.com", "order": "#1001"}
    assert not (mocli_env["home"] / "cases.db").exists()
