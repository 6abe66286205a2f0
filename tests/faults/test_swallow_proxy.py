"""The swallowing proxy itself, against a real Dovecot: the marked APPEND is answered OK, in
order among pipelined ones, and the message is not on the server; everything else arrives."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import imapclient
import pytest

from tests.support.dovecot import DovecotServer
from tests.support.swallow_proxy import LITERAL_PLUS_ONLY, SwallowProxy

MARKER = b"Subject: Never stored"


@pytest.fixture(scope="module")
def target() -> Iterator[DovecotServer]:
    server = DovecotServer(shape="slash", ssl=False, capabilities=LITERAL_PLUS_ONLY).start()
    yield server
    server.cleanup()


def mail(subject: str, number: int) -> bytes:
    return (
        f"From: a@example.test\r\nTo: b@example.test\r\nSubject: {subject}\r\n"
        f"Message-ID: <swallow-unit-{number}@example.test>\r\n"
        "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nBody line.\r\n"
    ).encode()


class RawClient:
    """Just enough IMAP to pipeline commands the way mailmig does (imapclient cannot)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.stream = self.sock.makefile("rb")
        assert self.stream.readline().startswith(b"* OK")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def until(self, tag: bytes) -> list[bytes]:
        """Every tagged answer, in arrival order, up to and including `tag`'s."""
        tagged = []
        while True:
            line = self.stream.readline()
            assert line, "the proxy closed the connection"
            if not line.startswith((b"* ", b"+ ")):
                tagged.append(line)
                if line.startswith(tag + b" "):
                    return tagged

    def close(self) -> None:
        self.stream.close()
        self.sock.close()


def subjects(server: DovecotServer, user: str) -> list[str]:
    client = server.client(user)
    try:
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["ALL"])
        fetched = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]) if uids else {}
        return [
            fetched[uid][b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().strip() for uid in sorted(uids)
        ]
    finally:
        client.logout()


def test_the_marked_append_is_answered_ok_in_order_and_never_stored(
    target: DovecotServer,
) -> None:
    user = target.new_user()
    with SwallowProxy(target.imap_port, MARKER) as proxy:
        raw = RawClient(proxy.port)
        try:
            raw.send(f"a1 LOGIN {user} {target.password(user)}\r\n".encode())
            assert raw.until(b"a1")[-1].startswith(b"a1 OK")
            pipelined = b""
            for number, (tag, subject) in enumerate(
                [(b"a2", "Kept one"), (b"a3", "Never stored"), (b"a4", "Kept two")]
            ):
                body = mail(subject, number)
                pipelined += tag + b" APPEND INBOX (\\Seen) {%d+}\r\n" % len(body) + body + b"\r\n"
            raw.send(pipelined)  # all three before any answer, like mailmig's pipelined APPENDs
            answers = raw.until(b"a4")
            raw.send(b"a5 LOGOUT\r\n")
            raw.until(b"a5")
        finally:
            raw.close()
        assert [a.split(b" ", 1)[0] for a in answers] == [b"a2", b"a3", b"a4"]
        assert answers[0].startswith(b"a2 OK [APPENDUID ")
        assert answers[1] == b"a3 OK APPEND completed\r\n"  # no APPENDUID: nothing was stored
        assert answers[2].startswith(b"a4 OK [APPENDUID ")
        assert proxy.fired.is_set() and len(proxy.swallowed) == 1
        assert MARKER in proxy.swallowed[0]
    # Checked on the server itself, not through the proxy.
    assert subjects(target, user) == ["Subject: Kept one", "Subject: Kept two"]


def test_everything_else_passes_through_unchanged(target: DovecotServer) -> None:
    """imapclient's own traffic (a synchronising literal even with the marker, FETCH
    answers with literals) arrives as sent; nothing is swallowed."""
    user = target.new_user()
    with SwallowProxy(target.imap_port, MARKER) as proxy:
        client = imapclient.IMAPClient("127.0.0.1", port=proxy.port, ssl=False, timeout=10)
        try:
            client.login(user, target.password(user))
            client.append("INBOX", mail("Never stored", 7))  # {N}: cannot be looked into
            client.select_folder("INBOX", readonly=True)
            via_proxy = client.fetch(client.search(["ALL"]), ["BODY.PEEK[]"])
        finally:
            client.logout()
        assert not proxy.fired.is_set() and proxy.swallowed == []
    direct = target.client(user)
    try:
        direct.select_folder("INBOX", readonly=True)
        stored = direct.fetch(direct.search(["ALL"]), ["BODY.PEEK[]"])
    finally:
        direct.logout()
    assert [e[b"BODY[]"] for e in via_proxy.values()] == [mail("Never stored", 7)]
    assert [e[b"BODY[]"] for e in stored.values()] == [mail("Never stored", 7)]
