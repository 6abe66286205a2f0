"""The folder map saved per pair of accounts: the operator's manual entries (`--map` style).

The TUI's folder map (`m`) saves them; every later copy of the same pair applies them
under its own explicit overrides (see `copy_service`). One owner-only JSON file per pair,
`paths.state_dir() / "maps" / "<pair key>.json"`:

    {"source": IDENTITY, "target": IDENTITY, "overrides": {SOURCE: TARGET, ...}}

The identities are stored for a human reading the file; the file name is what is looked up.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from mailmig_tui import paths
from mailmig_tui.errors import ConfigError
from mailmig_tui.model import AccountSpec


def pair_key(source: AccountSpec, target: AccountSpec) -> str:
    """A stable file-name-safe key for a pair of accounts, in this direction (their
    identities, hashed). Also keys other per-pair state, such as the measured rate."""
    text = f"{source.identity}\0{target.identity}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def map_path(source: AccountSpec, target: AccountSpec) -> Path:
    """Where the map of this pair is saved (whether or not it exists)."""
    return paths.state_dir() / "maps" / f"{pair_key(source, target)}.json"


def load_overrides(source: AccountSpec, target: AccountSpec) -> dict[str, str]:
    """The saved manual entries for this pair; {} when none were saved.

    A file that cannot be read or is not JSON raises ConfigError (with the fix in its hint);
    entries that are not a source name with a non-empty target name are ignored.
    """
    path = map_path(source, target)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read the saved folder map {path}: {exc}",
            "fix or delete the file; the map starts empty without it",
        ) from None
    entries = data.get("overrides", {}) if isinstance(data, dict) else {}
    if not isinstance(entries, dict):
        return {}
    return {str(s): t for s, t in entries.items() if isinstance(t, str) and t}


def save_overrides(source: AccountSpec, target: AccountSpec, overrides: Mapping[str, str]) -> Path:
    """Save the manual entries for this pair (atomically, owner-only); returns the file.

    An empty map is saved too: it says "all automatic" and replaces an older map.
    """
    path = map_path(source, target)
    data = {
        "source": source.identity,
        "target": target.identity,
        "overrides": dict(sorted(overrides.items())),
    }
    try:
        paths.write_private(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    except OSError as exc:
        raise ConfigError(
            f"cannot save the folder map {path}: {exc.strerror or exc}",
            "make the state directory writable, or set MAILMIG_STATE_DIR",
        ) from None
    return path
