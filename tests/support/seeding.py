"""Putting a corpus onto a test server over plain IMAP, outside the code under test."""

from __future__ import annotations

from collections.abc import Iterable

import imapclient

from tests.support.corpus import SeedFolder, SeedMessage
from tests.support.dovecot import DovecotServer


def seed_mailbox(
    server: DovecotServer,
    user: str,
    folders: Iterable[SeedFolder],
    messages: Iterable[SeedMessage],
) -> None:
    client = server.client(user)
    try:
        existing = {name for _flags, _delim, name in client.list_folders()}
        for folder in folders:
            name = server.folder_name(folder.parts)
            if name not in existing:
                client.create_folder(name)
                client.subscribe_folder(name)
                existing.add(name)
        for message in messages:
            name = server.folder_name(message.folder)
            if name not in existing:
                client.create_folder(name)
                existing.add(name)
            client.append(name, message.data, flags=message.flags, msg_time=message.internaldate)
    finally:
        client.logout()


def folder_contents(server: DovecotServer, user: str, folder: str) -> list[dict[bytes, object]]:
    """Every message of a folder as (BODY[], FLAGS, INTERNALDATE), in UID order."""
    client = server.client(user)
    try:
        client.normalise_times = False
        client.select_folder(folder, readonly=True)
        uids = sorted(client.search(["ALL"]))
        result: list[dict[bytes, object]] = []
        for start in range(0, len(uids), 200):
            chunk = uids[start : start + 200]
            answer = client.fetch(chunk, ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"])
            result.extend(answer[uid] for uid in chunk)
        return result
    finally:
        client.logout()


def list_names(client: imapclient.IMAPClient) -> list[str]:
    return sorted(str(name) for _flags, _delim, name in client.list_folders())


def seed_bulk(
    server: DovecotServer, user: str, messages: Iterable[SeedMessage], batch_bytes: int = 8 << 20
) -> int:
    """Like seed_mailbox but with MULTIAPPEND batches: thousands of messages in seconds."""
    client = server.client(user)
    count = 0
    try:
        existing = {name for _flags, _delim, name in client.list_folders()}
        batches: dict[str, list[dict[str, object]]] = {}
        sizes: dict[str, int] = {}

        def flush(name: str) -> None:
            if batches.get(name):
                client.multiappend(name, batches[name])
                batches[name], sizes[name] = [], 0

        for message in messages:
            name = server.folder_name(message.folder)
            if name not in existing:
                # Parents first, so every level is a real, subscribed folder.
                for depth in range(1, len(message.folder) + 1):
                    parent = server.folder_name(message.folder[:depth])
                    if parent not in existing:
                        client.create_folder(parent)
                        client.subscribe_folder(parent)
                        existing.add(parent)
            batches.setdefault(name, []).append(
                {"msg": message.data, "flags": message.flags, "date": message.internaldate}
            )
            sizes[name] = sizes.get(name, 0) + len(message.data)
            count += 1
            if sizes[name] >= batch_bytes or len(batches[name]) >= 500:
                flush(name)
        for name in list(batches):
            flush(name)
    finally:
        client.logout()
    return count
