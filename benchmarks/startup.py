"""Start-up cost: `mocli --help` beside a bare Typer app's `--help`.

Run: .venv/bin/python benchmarks/startup.py [runs]
Prints the median wall time of each over N runs (default 15), and the modules `mocli --help` loads
that the heavy-import rule keeps out (questionary, httpx, tinydb, pydantic, jinja2...).
"""

from __future__ import annotations

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


def timed(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE)
        figures = {
            "bare typer app --help": timed([py, str(bare), "--help"], runs),
            # Typer itself loads pydantic to build a command's parameters: compare like with like.
            "bare typer hello --help": timed([py, str(bare), "hello", "--help"], runs),
            "mocli --help": timed([py, "-m", "mocli", "--help"], runs),
            "mocli new-case --help": timed([py, "-m", "mocli", "new-case", "--help"], runs),
        }
        track = subprocess.run([py, "-m", "mocli", "track", "--help"], capture_output=True)
        if track.returncode == 0:
            figures["mocli track --help"] = timed([py, "-m", "mocli", "track", "--help"], runs)
    base = figures["bare typer app --help"]
    print(f"median of {runs} runs")
    for name, secs in figures.items():
        print(f"  {name:24} {secs * 1000:7.1f} ms   ({secs / base:4.2f}x bare typer)")
    probe = ("import sys, runpy; sys.argv=['mocli','--help']\n"
             "try:\n runpy.run_module('mocli', run_name='__main__')\nexcept SystemExit: pass\n"
             f"print('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([py, "-c", probe], capture_output=True, text=True).stdout
    loaded = out.rsplit("LOADED:", 1)[-1].strip()
    print(f"  heavy modules loaded by mocli --help: {loaded or 'none'}")
    print("  (a command's --help is compared with 'bare typer hello --help': Typer builds parameters with pydantic)")


if __name__ == "__main__":
    main()
