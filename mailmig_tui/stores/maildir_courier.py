"""Courier-IMAP's keywords in a Maildir: the `courierimapkeywords/` directory (read only).

Courier (libmaildir's maildirkeywords) keeps them apart from the file names:

- `courierimapkeywords/:list` holds the keyword names, one a line, then an empty line,
  then one line per message: `<base file name>:<n> <n> ...`, the numbers indexing the names;
- a newer change of one message is a file of its own holding that message's keywords, one
  a line (empty: none): `<base file name>` (the newest of all), or `.<N>.<base file name>`
  where the highest N wins. Courier folds these into `:list` now and then; until it does,
  they override it.

Files starting with `:` other than `:list`, and `.tmp.` scratch files, are not keywords.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

DIRECTORY = "courierimapkeywords"


def _lines(path: str) -> list[str] | None:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None


def _from_list(lines: list[str]) -> dict[str, tuple[str, ...]]:
    names: list[str] = []
    rest = iter(lines)
    for line in rest:
        if not line:
            break
        names.append(line.strip())
    keywords: dict[str, tuple[str, ...]] = {}
    for line in rest:
        base, colon, numbers = line.partition(":")
        if not colon:
            continue
        picked = [int(n) for n in numbers.split() if n.isdigit()]
        keywords[base] = tuple(names[n] for n in picked if n < len(names) and names[n])
    return keywords


def load_courier_keywords(folder_dir: str) -> Mapping[str, tuple[str, ...]]:
    """Base file name -> keywords, for the messages Courier gave any; empty without the
    directory."""
    directory = os.path.join(folder_dir, DIRECTORY)
    listed = _lines(os.path.join(directory, ":list"))
    keywords = _from_list(listed) if listed is not None else {}
    try:
        entries = os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return keywords
    newest: dict[str, tuple[int, str]] = {}  # base -> (rank, file name)
    for name in entries:
        if name.startswith((":", ".tmp.")):
            continue
        if name.startswith("."):
            counter, dot, base = name[1:].partition(".")
            if not dot or not counter.isdigit() or not base:
                continue
            rank = int(counter)
        else:
            base, rank = name, 1 << 62  # a plain name is the newest change of all
        if base not in newest or rank > newest[base][0]:
            newest[base] = (rank, name)
    for base, (_rank, name) in newest.items():
        lines = _lines(os.path.join(directory, name))
        if lines is not None:
            keywords[base] = tuple(line.strip() for line in lines if line.strip())
    return keywords


def directory_key(folder_dir: str) -> tuple[int, int] | None:
    """Changes whenever a keyword file is added, renamed or removed (or :list rewritten)."""
    try:
        st = os.stat(os.path.join(folder_dir, DIRECTORY))
        listed = os.stat(os.path.join(folder_dir, DIRECTORY, ":list")).st_mtime_ns
    except FileNotFoundError:
        return None if not os.path.isdir(os.path.join(folder_dir, DIRECTORY)) else (0, 0)
    return (st.st_mtime_ns, listed)
