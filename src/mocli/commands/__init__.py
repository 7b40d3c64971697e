"""One module per command: each declares its Typer signature and wires the pieces it needs.

Only typer and the standard library load at import time, so `mocli --help` stays fast.
"""
