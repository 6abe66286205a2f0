"""Removing exactly the messages mailmig appended to an IMAP folder (undo of a run).

Only with UIDPLUS (RFC 4315): the messages are marked \\Deleted by UID and then
`UID EXPUNGE` removes those UIDs alone. A plain EXPUNGE would also remove every other
message someone had marked \\Deleted in that folder, so without UIDPLUS nothing is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import imapclient
import imapclient.exceptions

from mailmig_tui.errors import FolderMissing, ProtocolError
from mailmig_tui.stores.imap_connect import server_text

if TYPE_CHECKING:
    from mailmig_tui.stores.imap import ImapStore

CHUNK = 500
"""UIDs per STORE / UID EXPUNGE command: keeps command lines short."""


def refusal(store: ImapStore) -> str:
    if store.readonly:
        return f"{store.spec.display} is opened read-only"
    if "UIDPLUS" not in store.info().capabilities:
        return (
            f"{store.spec.display} does not offer UIDPLUS (RFC 4315), so mailmig cannot "
            "remove its own copies without touching other messages; nothing was removed"
        )
    return ""


def remove(store: ImapStore, folder: str, uidvalidity: int, uids: Sequence[int]) -> list[int]:
    """STORE +FLAGS \\Deleted, then UID EXPUNGE, on exactly those of `uids` still there."""
    reason = refusal(store)
    if reason:
        raise ProtocolError(reason)
    selected = store._call("SELECT", store._select, folder, write=True)
    current = int(selected.get(b"UIDVALIDITY", 0))
    if current != uidvalidity:
        raise FolderMissing(
            f"{folder} on {store.spec.display} was made anew since (UIDVALIDITY {current}, "
            f"was {uidvalidity}): mailmig's copies in it are gone already"
        )
    client = store.client
    removed: list[int] = []
    wanted = sorted(set(uids))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        present = sorted(int(uid) for uid in store._call("FETCH", client.fetch, chunk, ["UID"]))
        if not present:
            continue
        try:
            store._call("STORE", client.add_flags, present, [imapclient.DELETED], silent=True)
            store._call("UID EXPUNGE", client.uid_expunge, present)
        except imapclient.exceptions.IMAPClientError as exc:
            raise ProtocolError(
                f"{store.spec.display} refused to remove messages from {folder}: {server_text(exc)}"
            ) from None
        removed += present
    return removed
