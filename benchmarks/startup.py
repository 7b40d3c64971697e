"""Start-up cost: `mocli --help` beside a bare Typer app's `--help`.

Run: .venv/bin/python benchmarks/startup.py [runs]
Prints the median wall time of each over N runs (default 15), and the modules `mocli --help` loads
that the heavy-import rule keeps out (questionary, httpx, tinydb, pydantic, jinja2...).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = '''
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    print(name)
@app.command()
def bye() -> None:
    """Say bye."""
if __name__ == "__main__":
    app()
'''
HEAVY = ("questionary", "prompt_toolkit", "httpx", "tinydb", "pydantic", "jinja2", "holidays", "orjson", "babel")


def timed(cmd: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """(median wall seconds, least CPU seconds) of `cmd`. CPU time (user + system of the child) is
    what start-up costs; wall time also counts waiting for the 2 cores shared with everything else."""
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)  # warm: bytecode cached
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), min(cpus)


def instructions(cmd: list[str], env: dict[str, str]) -> int | None:
    """Instructions `cmd` executes, counted by valgrind's callgrind; None if it cannot say."""
    run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                         capture_output=True, text=True, env=env)
    found = re.search(r"Collected : (\d+)", run.stderr)
    return int(found.group(1)) if found else None


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE)
        # As an agent's shell runs it: bytecode may be cached (a PYTHONDONTWRITEBYTECODE in this
        # environment would make every run recompile mocli but not the installed Typer), an empty store.
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")}
        env.update(MOCLI_HOME=str(Path(tmp) / "home"), MOCLI_CONFIG_DIR=str(Path(tmp) / "conf"))
        figures = {
            "bare typer app --help": timed([py, str(bare), "--help"], runs, env),
            # Typer itself loads pydantic to build a command's parameters: compare like with like.
            "bare typer hello --help": timed([py, str(bare), "hello", "--help"], runs, env),
            "bare typer hello": timed([py, str(bare), "hello"], runs, env),
            "mocli --help": timed([py, "-m", "mocli", "--help"], runs, env),
            "mocli new-case --help": timed([py, "-m", "mocli", "new-case", "--help"], runs, env),
            "mocli track --help": timed([py, "-m", "mocli", "track", "--help"], runs, env),
            "mocli cases (empty store)": timed([py, "-m", "mocli", "cases"], runs, env),
        }
        counts: dict[str, int | None] = {}
        if shutil.which("valgrind"):  # instructions executed: the same on a busy machine as on an idle one
            counts = {"hello": instructions([py, str(bare), "hello"], env),
                      "cases": instructions([py, "-m", "mocli", "cases"], env)}
    base_wall, base_cpu = figures["bare typer app --help"]
    print(f"{runs} runs each: median wall time, least CPU time; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for name, (wall, cpu) in figures.items():
        print(f"  {name:26} {wall * 1000:7.1f} ms ({wall / base_wall:4.2f}x)   CPU {cpu * 1000:6.1f} ms "
              f"({cpu / base_cpu:4.2f}x bare typer app --help)")
    (cases_wall, cases_cpu), (hello_wall, hello_cpu) = figures["mocli cases (empty store)"], figures["bare typer hello"]
    print(f"  mocli cases on an empty store = {cases_cpu / hello_cpu:.2f}x a bare Typer command's CPU time, "
          f"{cases_wall / hello_wall:.2f}x its wall time (goal <= 1.1x)")
    if counts.get("hello") and counts.get("cases"):
        print(f"  instructions (callgrind): mocli cases on an empty store {counts['cases'] / 1e6:,.0f} M, a bare "
              f"Typer command {counts['hello'] / 1e6:,.0f} M = {counts['cases'] / counts['hello']:.2f}x")
    probe = ("import sys, runpy; sys.argv=['mocli','--help']\n"
             "try:\n runpy.run_module('mocli', run_name='__main__')\nexcept SystemExit: pass\n"
             f"print('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([py, "-c", probe], capture_output=True, text=True).stdout
    loaded = out.rsplit("LOADED:", 1)[-1].strip()
    print(f"  heavy modules loaded by mocli --help: {loaded or 'none'}")
    print("  (a command's --help is compared with 'bare typer hello --help': Typer builds parameters with pydantic)")


if __name__ == "__main__":
    main()
