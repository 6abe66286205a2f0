"""Routing during a staged move: which users the relay must send to the new server.

While some users are on the new server and some on the old one, the company's relay routes
each recipient to the right place (Postfix `transport_maps` and `relay_recipient_maps`).
The journal knows which accounts were copied where; this turns that into the two maps, for
the admin to review and install (we never touch the relay ourselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class MigratedUser:
    address: str
    """The recipient address routed to the new server."""
    next_hop: str
    """The new server's host, as the transport's next hop."""


def migrated_users(pairs: list[tuple[str, str]], domain: str = "") -> list[MigratedUser]:
    """Users from the journal's (source identity, target identity) pairs.

    The address is the target's login when it is an address (as on Microsoft 365 and Gmail),
    else the source login at `domain`; targets that are local stores are not routable.
    """
    users: dict[str, MigratedUser] = {}
    for source, target in pairs:
        target_parts = urlsplit(target)
        if target_parts.scheme not in ("imap", "imaps") or not target_parts.hostname:
            continue
        login = unquote(target_parts.username or "")
        if "@" not in login:
            source_login = unquote(urlsplit(source).username or "")
            login = (
                source_login
                if "@" in source_login
                else (f"{login or source_login}@{domain}" if domain else "")
            )
        if login:
            address = login.lower()
            users[address] = MigratedUser(address, target_parts.hostname)
    return sorted(users.values(), key=lambda u: u.address)


def postfix_transport(users: list[MigratedUser], smtp_port: int = 25) -> str:
    port = "" if smtp_port == 25 else f":{smtp_port}"
    lines = ["# mailmig: migrated users go to the new server (postmap this file)"]
    lines += [f"{u.address}\tsmtp:[{u.next_hop}]{port}" for u in users]
    return "\n".join(lines) + "\n"


def postfix_relay_recipients(users: list[MigratedUser]) -> str:
    lines = ["# mailmig: recipients the relay accepts for the new server (postmap this file)"]
    lines += [f"{u.address}\tOK" for u in users]
    return "\n".join(lines) + "\n"
