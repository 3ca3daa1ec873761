"""`python -m reporting ...` is the `reporting` command (for environments without the console script)."""

from reporting.cli import main

if __name__ == "__main__":
    main()
