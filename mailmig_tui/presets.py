"""What we know about the big hosted servers, applied when they are recognised.

Recognised from the greeting and capabilities (or chosen with --source-preset/--target-preset):
- Exchange Online / Microsoft 365: 35 MB message limit unless the admin raised it, folder
  names compared without case, no MULTIAPPEND, throttling answers with a suggested backoff.
- Gmail: labels appear as folders, so "[Gmail]/All Mail", "Important" and "Starred" hold
  copies of messages that live elsewhere; copying them would duplicate every message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailmig_tui.errors import UsageError
from mailmig_tui.model import AccountInfo, FolderInfo, SpecialUse


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    size_limit: int | None = None
    """Messages larger than this are refused by default (bytes)."""
    case_insensitive_names: bool = False
    skip_roles: frozenset[SpecialUse] = frozenset()
    """Source folders with these roles are views of other folders: not copied by default."""
    notes: tuple[str, ...] = field(default=())
    staging: bool = True
    """Whether a big folder may be staged in hidden folders and moved in (`staging`): not
    on Gmail, whose folders are labels, where a staging folder and a move are not the
    plain mailbox operations the order argument rests on (untested there)."""
    connections: int = 8
    """Connections a copy opens to this server by default (`--connections` overrides):
    well under Dovecot's default mail_max_userip_connections (10), leaving room for the
    TUI's browsing and the user's own mail client."""

    def skips(self, folder: FolderInfo) -> bool:
        return folder.special_use in self.skip_roles


EXCHANGE = Preset(
    name="exchange",
    title="Exchange Online / Microsoft 365",
    size_limit=35 * 1000 * 1000,
    case_insensitive_names=True,
    notes=(
        "35 MB message limit (raise MaxReceiveSize and use --max-size if you did)",
        "throttled answers are retried after the suggested backoff time",
    ),
    connections=16,  # Exchange Online allows about 16-20 IMAP connections per mailbox
)
GMAIL = Preset(
    name="gmail",
    title="Gmail / Google Workspace",
    skip_roles=frozenset({SpecialUse.ALL, SpecialUse.IMPORTANT, SpecialUse.FLAGGED}),
    notes=("[Gmail]/All Mail, Important and Starred are label views: not copied",),
    staging=False,
    connections=12,  # Gmail allows 15 per account, the user's phone and client included
)
PRESETS = {p.name: p for p in (EXCHANGE, GMAIL)}
CHOICES = ("auto", "none", *PRESETS)


DEFAULT_CONNECTIONS = Preset(name="none", title="").connections


def default_connections(*chosen: Preset | None) -> int:
    """Connections per server for a copy between accounts with these presets: the
    smallest of their defaults, so neither server gets more than it allows."""
    return min((p.connections if p else DEFAULT_CONNECTIONS) for p in chosen)


def detect(info: AccountInfo) -> Preset | None:
    greeting = info.greeting.lower()
    if "microsoft exchange" in greeting or "outlook.office365" in greeting:
        return EXCHANGE
    if "gimap" in greeting or "X-GM-EXT-1" in info.capabilities:
        return GMAIL
    return None


def choose(choice: str, info: AccountInfo) -> Preset | None:
    """The preset for an account: detected ("auto"), none, or named by the operator."""
    if choice == "auto":
        return detect(info)
    if choice == "none":
        return None
    if choice not in PRESETS:
        raise UsageError(f"unknown preset {choice!r}", f"choose one of {', '.join(CHOICES)}")
    return PRESETS[choice]
