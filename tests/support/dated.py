"""A mailbox whose messages have chosen INTERNALDATEs and sizes, for the copy filter's tests:
the same messages in INBOX and Work, appended with their dates over IMAP."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.dovecot import DovecotServer

# (subject, received at noon UTC on this day, body size): noon keeps every date a whole
# half day away from any server time zone's midnight.
SEED = [
    ("old", "2023-06-15", 500),
    ("first-day", "2024-01-01", 500),  # --since is inclusive
    ("big", "2024-03-10", 80_000),  # over --skip-larger-than 50K
    ("last-day", "2024-06-30", 500),
    ("before-day", "2024-07-01", 500),  # --before is exclusive
    ("new", "2025-02-01", 500),
]
INSIDE = {"first-day", "last-day"}
FILTER = ("--since", "2024-01-01", "--before", "2024-07-01", "--skip-larger-than", "50K")


def message(subject: str, size: int) -> bytes:
    head = (
        f"From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject}@filter.test>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n"
    ).encode()
    line = b"x" * 70 + b"\r\n"
    return head + line * (size // len(line) + 1)


def seed(server: DovecotServer, user: str) -> None:
    client = server.client(user)
    try:
        for folder in ("INBOX", "Work"):
            if folder != "INBOX":
                client.create_folder(folder)
            for subject, day, size in SEED:
                when = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
                client.append(folder, message(f"{folder}-{subject}", size), (), msg_time=when)
    finally:
        client.logout()


def subjects(server: DovecotServer, user: str, folder: str) -> list[str]:
    client = server.client(user)
    try:
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        fetched = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]) if uids else {}
        found = [
            bytes(v[b"BODY[HEADER.FIELDS (SUBJECT)]"]).decode().strip().removeprefix("Subject: ")
            for v in fetched.values()
        ]
        return sorted(found)
    finally:
        client.logout()
