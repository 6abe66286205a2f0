"""A test whose tool is missing skips on a developer's machine but fails in CI (CI=true).

./run-tests installs every such tool, so in CI a missing one is a broken set-up, never a
silent pass.
"""

from __future__ import annotations

import os

import pytest


def need(present: bool, what: str) -> None:
    if present:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{what} is missing in CI: ./run-tests should have installed it")
    pytest.skip(f"{what} is missing (./run-tests installs it)")
