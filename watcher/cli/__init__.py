"""The command line: the click group in `main`, one module per command family."""

from watcher.cli.main import main

__all__ = ["main"]
