"""Converting IMAP LIST and CAPABILITY answers into our types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mailmig_tui.model import FolderInfo, SpecialUse
from mailmig_tui.special import is_inbox, role_from_attributes
from mailmig_tui.stores.base import as_text


def parse_capabilities(raw: Iterable[Any]) -> frozenset[str]:
    return frozenset(as_text(c).upper() for c in raw)


def folder_from_list(flags: Iterable[Any], delimiter: Any, name: Any) -> FolderInfo:
    """One LIST row; imapclient has already decoded modified UTF-7 names to str."""
    attributes = [as_text(f) for f in flags]
    lowered = {a.lower() for a in attributes}
    folder = as_text(name)
    role = SpecialUse.INBOX if is_inbox(folder) else role_from_attributes(attributes)
    return FolderInfo(
        name=folder,
        delimiter=None if delimiter is None else as_text(delimiter),
        special_use=role,
        selectable=not ({"\\noselect", "\\nonexistent"} & lowered),
    )
