"""A test whose tool is missing skips on a developer's machine but fails in CI (CI=true).

./run-tests installs every such tool, so in CI a missing one is a broken set-up, never a
silent pass.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def need(present: bool, what: str) -> None:
    if not present:
        unavailable(f"{what} is missing", "./run-tests installs it")


def unavailable(problem: str, remedy: str) -> NoReturn:
    """Fail in CI, skip elsewhere: the one rule for a test whose tool or server is missing."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{problem} in CI ({remedy})")
    pytest.skip(f"{problem} ({remedy})")
