"""Where mailmig keeps its files: platformdirs' per-user config, state and log directories.

`MAILMIG_CONFIG_DIR`, `MAILMIG_STATE_DIR` and `MAILMIG_LOG_DIR` override them (tests and
admins who keep migrations on a separate volume use them). Every directory is created with
owner-only permissions: journals and logs name users and folders. `write_private` is the one
way mailmig writes a file of its own (saved folder maps, rates, the config, reports).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
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


def _make_dirs(path: Path) -> None:
    """Create `path` and any missing parents, each 0700 whatever the umask (unlike
    `mkdir(parents=True)`, which gives the parents the default mode). Directories that
    already exist, mailmig's or not, are left as they are."""
    missing: list[Path] = []
    while not path.is_dir() and path != path.parent:
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:  # another process made it meanwhile: not ours to change
            continue
        directory.chmod(0o700)


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (mode 0700) or fail with a one-line error naming it."""
    try:
        _make_dirs(path)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(f"not writable: {path}")
    except OSError as exc:
        raise ConfigError(
            f"cannot use the directory {path}: {exc.strerror or exc}",
            "make it writable, or point the matching MAILMIG_*_DIR variable elsewhere",
        ) from None
    return path


def write_private(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically, owner-only (0600) from the first byte.

    Missing parent directories are created owner-only. The text goes to a uniquely named
    temporary file beside `path`, is synced, and then replaces `path` in one step, so a
    reader sees the old file or the new one, never half of one, and two writers cannot
    clobber each other's temporary file. Failures raise OSError, for the caller to turn
    into its own error; no temporary file is left behind.
    """
    _make_dirs(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
