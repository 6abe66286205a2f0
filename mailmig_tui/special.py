"""Recognise special-use folders (Sent, Drafts, Trash, ...) by LIST attribute or by name.

RFC 6154 SPECIAL-USE attributes are authoritative when a server sends them. Courier, Cyrus and
many older servers do not, so the usual names in several languages are recognised as well.
Names are compared case-insensitively (Unicode casefold after NFC normalisation) on the last
path component, and only for top-level folders or direct children of INBOX: a folder called
"Sent" deep inside a project tree is an ordinary folder.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import replace

from mailmig_tui.model import FolderInfo, SpecialUse

_NAMES: dict[SpecialUse, tuple[str, ...]] = {
    SpecialUse.SENT: (
        "Sent",
        "Sent Items",
        "Sent Messages",
        "Sent Mail",
        "Gesendet",
        "Gesendete Objekte",
        "Gesendete Elemente",
        "Envoyés",
        "Éléments envoyés",
        "Enviados",
        "Elementos enviados",
        "Inviata",
        "Posta inviata",
        "Verzonden",
        "Verzonden items",
    ),
    SpecialUse.DRAFTS: (
        "Drafts",
        "Draft",
        "Entwürfe",
        "Brouillons",
        "Borradores",
        "Bozze",
        "Concepten",
    ),
    SpecialUse.TRASH: (
        "Trash",
        "Deleted Items",
        "Deleted Messages",
        "Bin",
        "Papierkorb",
        "Gelöschte Elemente",
        "Gelöschte Objekte",
        "Corbeille",
        "Éléments supprimés",
        "Papelera",
        "Elementos eliminados",
        "Cestino",
        "Posta eliminata",
        "Prullenbak",
        "Verwijderde items",
    ),
    SpecialUse.JUNK: (
        "Junk",
        "Junk E-Mail",
        "Junk Email",
        "Junk-E-Mail",
        "Spam",
        "Bulk Mail",
        "Courrier indésirable",
        "Correo no deseado",
        "Posta indesiderata",
        "Ongewenste e-mail",
        "Spam-Verdacht",
    ),
    SpecialUse.ARCHIVE: ("Archive", "Archives", "Archiv"),
}

# LIST attributes from RFC 6154 plus the Gmail XLIST spellings that some servers still send.
_ATTRIBUTES: dict[str, SpecialUse] = {use.value.casefold(): use for use in SpecialUse} | {
    "\\spam": SpecialUse.JUNK,
    "\\allmail": SpecialUse.ALL,
    "\\starred": SpecialUse.FLAGGED,
}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


_BY_NAME: dict[str, SpecialUse] = {
    _fold(name): use for use, names in _NAMES.items() for name in names
}


def is_inbox(name: str) -> bool:
    """Whether a name means INBOX, which IMAP compares ASCII-case-insensitively."""
    # isascii() first: "ınbox" with a dotless i upper-cases to "INBOX" but is another folder.
    return name.isascii() and name.upper() == "INBOX"


def role_from_name(parts: Sequence[str]) -> SpecialUse | None:
    """The role a folder's name suggests, for a name split into path components.

    `parts` has the namespace prefix already removed. INBOX (any case) is always INBOX;
    ["INBOX", "Sent"] counts like ["Sent"] because Courier-style servers keep everything
    under INBOX.
    """
    if len(parts) == 1 and is_inbox(parts[0]):
        return SpecialUse.INBOX
    if len(parts) == 1 or (len(parts) == 2 and is_inbox(parts[0])):
        return _BY_NAME.get(_fold(parts[-1]))
    return None


def role_from_attributes(flags: Iterable[str]) -> SpecialUse | None:
    """The first special-use role among LIST attributes such as "\\Sent"; None if none."""
    for flag in flags:
        role = _ATTRIBUTES.get(flag.casefold())
        if role is not None:
            return role
    return None


def with_guessed_roles(folders: Sequence[FolderInfo], prefix: str) -> list[FolderInfo]:
    """Give folders without a SPECIAL-USE attribute the role their name suggests.

    A role some folder already declares is never guessed for another one: the server's word
    beats our name table. Where several names suggest one role (a German mailbox with both
    "Drafts" and "Entwürfe"), only the name earliest in the table gets it; the others stay
    ordinary folders, so nothing is merged behind the operator's back.
    """
    declared = {f.special_use for f in folders if f.special_use is not None}
    best: dict[SpecialUse, tuple[int, str]] = {}
    for folder in folders:
        if folder.special_use is None and folder.selectable:
            parts = folder.parts(prefix)
            role = role_from_name(parts)
            if role is not None and role not in declared:
                rank = (_rank(role, parts[-1]), folder.name)
                if role not in best or rank < best[role]:
                    best[role] = rank
    chosen = {name: role for role, (_rank_, name) in best.items()}
    return [replace(f, special_use=chosen[f.name]) if f.name in chosen else f for f in folders]


def _rank(role: SpecialUse, name: str) -> int:
    folded = [_fold(n) for n in _NAMES.get(role, ())]
    return folded.index(_fold(name)) if _fold(name) in folded else len(folded)
