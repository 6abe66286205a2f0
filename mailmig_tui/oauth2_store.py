"""Where OAuth2 refresh tokens are kept between runs: the keyring, or an owner-only file.

`token_store = "keyring"` (the default): the system keyring, service "mailmig", entry
"oauth2:USER@HOST"; where there is none (a headless host), for this run only.
`token_store = "file"` (opt-in, in [settings] or per account): one owner-only file per
account (0600, in a 0700 directory `oauth2-tokens/` of the state directory), for hosts without
a keyring where the admin accepts a token on disk, like a password in ~/.netrc.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Protocol

from mailmig_tui import paths, secrets
from mailmig_tui.errors import ConfigError

STORES = ("keyring", "file")


class TokenStore(Protocol):
    def load(self, key: str) -> tuple[str | None, str | None]:
        """(the token kept under `key` or None, why none can be kept here or None)."""
        ...

    def save(self, key: str, token: str) -> str | None:
        """Keep `token`; returns why it cannot be kept."""
        ...

    def delete(self, key: str) -> None: ...


class KeyringStore:
    def load(self, key: str) -> tuple[str | None, str | None]:
        return secrets.keyring_lookup(key)

    def save(self, key: str, token: str) -> str | None:
        return secrets.keyring_store(key, token)

    def delete(self, key: str) -> None:
        secrets.keyring_delete(key)


class FileStore:
    """One JSON file per account; the file name is a digest, the key is inside."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory

    def path(self, key: str) -> Path:
        directory = self.directory or paths.state_dir() / "oauth2-tokens"
        return directory / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")

    def load(self, key: str) -> tuple[str | None, str | None]:
        path = self.path(key)
        try:
            if path.stat().st_mode & 0o077:  # never trust a token others could have read
                return None, f"{path} is readable by others; it was not used"
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError) as exc:
            return None, f"cannot read {path} ({type(exc).__name__})"
        token = data.get("refresh_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or data.get("key") != key:
            return None, None
        return token, None

    def save(self, key: str, token: str) -> str | None:
        path = self.path(key)
        try:
            paths.ensure_private_dir(path.parent)
            paths.write_private(path, json.dumps({"key": key, "refresh_token": token}))
        except (OSError, ConfigError) as exc:
            return f"cannot write {path} ({exc})"
        return None

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(key))


def store_for(name: str) -> TokenStore:
    return FileStore() if name == "file" else KeyringStore()
