"""The procedure as pure functions: situations, fraud signals, the action decision, SLAs.

No I/O, no prompts, no printing: everything they need is passed in.
"""
