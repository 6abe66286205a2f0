"""Exchange and Gmail presets, recognised from the greeting of a Dovecot that looks like them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mailmig_tui.cli import main
from tests.support.dovecot import DovecotServer


@pytest.fixture
def gmail_like() -> Iterator[DovecotServer]:
    server = DovecotServer(
        shape="slash",
        greeting="Gimap ready for requests from 127.0.0.1",
        special_use={
            "[Gmail]/All Mail": "\\All",
            "[Gmail]/Starred": "\\Flagged",
            "[Gmail]/Sent Mail": "\\Sent",
        },
    ).start()
    yield server
    server.cleanup()


@pytest.fixture
def exchange_like() -> Iterator[DovecotServer]:
    server = DovecotServer(
        shape="slash", greeting="The Microsoft Exchange IMAP4 service is ready."
    ).start()
    yield server
    server.cleanup()


def url(server: DovecotServer, user: str) -> str:
    return f"imap+plain://{user}@127.0.0.1:{server.imap_port}"


def test_gmail_label_views_are_not_copied_and_exchange_quirks_apply(
    gmail_like: DovecotServer,
    exchange_like: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, target = gmail_like.new_user(), exchange_like.new_user()
    client = gmail_like.client(source)
    for name in ("[Gmail]/All Mail", "[Gmail]/Starred", "[Gmail]/Sent Mail", "Archiv"):
        client.create_folder(name)
    mail = b"Message-ID: <g1@x>\r\nSubject: once\r\n\r\nbody\r\n"
    for folder in ("INBOX", "[Gmail]/All Mail", "[Gmail]/Starred"):
        client.append(folder, mail)  # one message, three label views of it
    client.append("Archiv", b"Subject: archived\r\n\r\nold\r\n")
    client.logout()
    other = exchange_like.client(target)
    other.create_folder("archiv")  # Exchange compares names without case
    other.logout()
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", gmail_like.password(source))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", exchange_like.password(target))
    capsys.readouterr()
    assert (
        main(["copy", url(gmail_like, source), url(exchange_like, target), "--dry-run", "--json"])
        == 0
    )
    plan = json.loads(capsys.readouterr().out)
    assert (plan["source_preset"], plan["target_preset"]) == ("gmail", "exchange")
    assert plan["size_limit"] == 35_000_000
    targets = {f["source"]: f["target"] for f in plan["folders"]}
    assert "[Gmail]/All Mail" not in targets and "[Gmail]/Starred" not in targets
    assert targets["Archiv"] == "archiv"
    assert main(["copy", url(gmail_like, source), url(exchange_like, target)]) == 0
    assert "Exchange Online" in capsys.readouterr().out
    check = exchange_like.client(target)
    assert check.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"] == 1
    assert "Archiv" not in [name for _f, _d, name in check.list_folders()]
    check.logout()
    # Named exactly, a label view is copied after all, and --target-preset none drops quirks.
    assert (
        main(
            [
                "copy",
                url(gmail_like, source),
                url(exchange_like, target),
                "--dry-run",
                "--json",
                "--folder",
                "[Gmail]/All Mail",
                "--target-preset",
                "none",
            ]
        )
        == 0
    )
    plan = json.loads(capsys.readouterr().out)
    assert [f["source"] for f in plan["folders"]] == ["[Gmail]/All Mail"]
    assert plan["target_preset"] is None and plan["size_limit"] is None
