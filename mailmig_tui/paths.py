"""Where mailmig keeps its files: platformdirs' per-user config, state and log directories.

`MAILMIG_CONFIG_DIR`, `MAILMIG_STATE_DIR` and `MAILMIG_LOG_DIR` override them (tests and
admins who keep migrations on a separate volume use them). Every directory is created with
owner-only permissions: journals and logs name users and folders.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from mailmig_tui.errors import ConfigError

APP = "mailmig"


def _dir(env: str, default: str) -> Path:
    return Path(os.environ.get(env) or default)


def config_dir() -> Path:
    return _dir("MAILMIG_CONFIG_DIR", platformdirs.user_config_dir(APP))


def state_dir() -> Path:
    return _dir("MAILMIG_STATE_DIR", platformdirs.user_state_dir(APP))


def log_dir() -> Path:
    return _dir("MAILMIG_LOG_DIR", platformdirs.user_log_dir(APP))


def config_file() -> Path:
    return config_dir() / "config.toml"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (mode 0700) or fail with a one-line error naming it."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(f"not writable: {path}")
    except OSError as exc:
        raise ConfigError(
            f"cannot use the directory {path}: {exc.strerror or exc}",
            "make it writable, or point the matching MAILMIG_*_DIR variable elsewhere",
        ) from None
    return path
