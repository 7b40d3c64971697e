"""Allow `python -m mocli`."""

from mocli.cli import main

if __name__ == "__main__":
    main()
