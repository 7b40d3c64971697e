"""mocli: the missing-order case tool for retail support agents."""

__version__ = "0.1.0"
