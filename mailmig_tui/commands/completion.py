"""`mailmig completion bash|zsh|fish`: print the shell code that gives `mailmig` Tab completion.

argcomplete writes the shell code. When Tab is pressed, that code runs `mailmig` itself, which
answers from its own argparse parser (see `offer_completions`), so the completions can never
drift from the real subcommands and options.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

SHELLS = ("bash", "zsh", "fish")
"""The shells argcomplete writes code for that we test (see tests/cli/test_completion.py)."""

PROGRAM = "mailmig"


def add_completion_parser(
    sub: argparse._SubParsersAction[Any],
) -> argparse.ArgumentParser:
    completion: argparse.ArgumentParser = sub.add_parser(
        "completion",
        help="print the shell code for Tab completion (bash, zsh or fish)",
        description="Print the code that makes the shell complete mailmig's commands and "
        "options, e.g. `mailmig completion bash > "
        "~/.local/share/bash-completion/completions/mailmig`.",
    )
    completion.add_argument("shell", choices=SHELLS, metavar="SHELL", help=" | ".join(SHELLS))
    completion.set_defaults(run=run_completion)
    return completion


def run_completion(args: argparse.Namespace) -> int:
    from argcomplete.shell_integration import shellcode  # lazily: `mailmig --help` stays light

    sys.stdout.write(shellcode([PROGRAM], shell=str(args.shell)))
    return 0


def offer_completions(parser: argparse.ArgumentParser) -> None:
    """When the shell code runs us for a Tab, print the completions and exit; else no-op."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    argcomplete.autocomplete(parser)
