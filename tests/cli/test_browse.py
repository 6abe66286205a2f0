"""`mailmig folders` and `mailmig ls` against real Dovecot servers of both shapes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from mailmig_tui.cli import main
from mailmig_tui.model import AccountSpec, Security, TlsOptions
from mailmig_tui.stores.imap import connect_imap
from tests.support.corpus import standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer


def url(server: DovecotServer, user: str, scheme: str = "imaps", host: str = "localhost") -> str:
    port = server.imaps_port if scheme == "imaps" else server.imap_port
    return f"{scheme}://{user}@{host}:{port}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def source_env(monkeypatch: pytest.MonkeyPatch, server: DovecotServer, seeded_user: str) -> str:
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", server.password(seeded_user))
    return seeded_user


def expected_counts(server: DovecotServer) -> dict[str, tuple[int, int, int]]:
    """(messages, unseen, size) per server folder name, computed from the corpus itself."""
    counts: Counter[str] = Counter()
    unseen: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for message in standard_corpus():
        name = server.folder_name(message.folder)
        counts[name] += 1
        unseen[name] += "\\Seen" not in message.flags
        sizes[name] += len(message.data)
    names = {server.folder_name(f.parts) for f in standard_folders()}
    return {n: (counts[n], unseen[n], sizes[n]) for n in names}


def test_folders_json_matches_the_seeded_corpus(
    capsys: pytest.CaptureFixture[str], server: DovecotServer, source_env: str
) -> None:
    code, out, err = run(
        capsys, "folders", url(server, source_env), "--ca-file", str(server.ca_file), "--json"
    )
    assert code == 0, err
    listed = {f["name"]: f for f in json.loads(out)}
    for name, (messages, unseen, size) in expected_counts(server).items():
        assert name in listed, f"{name} missing from {sorted(listed)}"
        entry = listed[name]
        assert (entry["messages"], entry["unseen"], entry["size"]) == (messages, unseen, size)
        assert entry["delimiter"] == server.delimiter
        assert set(entry) == {
            "name",
            "delimiter",
            "special_use",
            "messages",
            "unseen",
            "size",
            "error",
        }
        assert entry["error"] is None


def test_special_folders_are_recognised_with_and_without_special_use(
    capsys: pytest.CaptureFixture[str], server: DovecotServer, source_env: str
) -> None:
    code, out, _ = run(
        capsys, "folders", url(server, source_env), "--ca-file", str(server.ca_file), "--json"
    )
    assert code == 0
    roles = {f["name"]: f["special_use"] for f in json.loads(out)}
    for folder in standard_folders():
        if folder.special_use:
            assert roles[server.folder_name(folder.parts)] == folder.special_use
    assert roles["INBOX"] == "\\Inbox"
    assert roles[server.folder_name(("Entwürfe",))] is None or server.shape == "courier"


def test_unicode_folder_names_round_trip(
    capsys: pytest.CaptureFixture[str], server: DovecotServer, source_env: str
) -> None:
    # On the wire the server holds modified UTF-7; we must show and accept Unicode.
    raw = server.client(source_env)
    raw.folder_encode = False
    wire_names = {name for _f, _d, name in raw.list_folders()}
    raw.logout()
    assert server.folder_name(("Entw&APw-rfe",)).encode() in wire_names
    name = server.folder_name(("Entwürfe",))
    code, out, err = run(
        capsys, "ls", url(server, source_env), name, "--ca-file", str(server.ca_file), "--json"
    )
    assert code == 0, err
    assert len(json.loads(out)) == expected_counts(server)[name][0]


def test_ls_lists_newest_first_and_limit_takes_the_newest(
    capsys: pytest.CaptureFixture[str], server: DovecotServer, source_env: str
) -> None:
    inbox = [m for m in standard_corpus() if m.folder == ("INBOX",)]
    newest = sorted(inbox, key=lambda m: m.internaldate, reverse=True)[:5]
    code, out, err = run(
        capsys,
        "ls",
        url(server, source_env),
        "INBOX",
        "--limit",
        "5",
        "--ca-file",
        str(server.ca_file),
        "--json",
    )
    assert code == 0, err
    rows = json.loads(out)
    assert [r["size"] for r in rows] == [len(m.data) for m in newest]
    assert set(rows[0]) == {"uid", "date", "from", "subject", "size", "flags"}


def test_rfc2047_subjects_are_decoded(
    capsys: pytest.CaptureFixture[str], server: DovecotServer, source_env: str
) -> None:
    code, out, _ = run(
        capsys, "ls", url(server, source_env), "INBOX", "--ca-file", str(server.ca_file), "--json"
    )
    assert code == 0
    subjects = " ".join(r["subject"] + " " + r["from"] for r in json.loads(out))
    assert "=?" not in subjects
    assert any(ch in subjects for ch in "äöüÄÖÜß")


def _spec(server: DovecotServer, user: str) -> AccountSpec:
    return AccountSpec(
        kind="imap",
        user=user,
        host="localhost",
        port=server.imaps_port,
        security=Security.TLS,
        tls=TlsOptions(ca_file=str(server.ca_file)),
    )


def test_summary_pages_cover_a_folder_exactly(server: DovecotServer, seeded_user: str) -> None:
    store = connect_imap(_spec(server, seeded_user), server.password(seeded_user), readonly=True)
    with store:
        uids = store.uids("INBOX")
        seen: list[int] = []
        for start in range(0, len(uids), 7):
            page = store.summaries("INBOX", uids[start : start + 7])
            seen.extend(s.uid for s in page)
        assert seen == uids
        assert len(uids) == expected_counts(server)["INBOX"][0]


def test_preview_does_not_set_seen(server: DovecotServer) -> None:
    user = server.new_user()
    client = server.client(user)
    client.append("INBOX", b"Subject: unread\r\n\r\nbody\r\n", flags=[])
    client.logout()
    store = connect_imap(_spec(server, user), server.password(user), readonly=True)
    with store:
        [message] = list(store.fetch("INBOX", store.uids("INBOX")))
        assert message.data.endswith(b"body\r\n")
    check = server.client(user)
    check.select_folder("INBOX", readonly=True)
    flags = check.get_flags(check.search(["ALL"]))
    check.logout()
    assert all(b"\\Seen" not in f for f in flags.values())


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong-password", "refused the login"),
        ("unknown-host", "unknown host"),
        ("untrusted", "is not trusted"),
        ("hostname-mismatch", "does not match the host name"),
        ("refused", "connection refused"),
        ("missing-folder", "no folder"),
    ],
)
def test_bad_input_gives_exit_2_and_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    slash_server: DovecotServer,
    case: str,
    expected: str,
) -> None:
    server = slash_server
    user = server.new_user()
    password = server.password(user)
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", password)
    ca = ["--ca-file", str(server.ca_file)]
    argv = {
        "wrong-password": ["folders", url(server, user), *ca],
        "unknown-host": ["folders", f"imaps://{user}@no-such-host.invalid", *ca],
        "untrusted": ["folders", url(server, user)],
        "hostname-mismatch": ["folders", url(server, user, host="127.0.0.1"), *ca],
        "refused": ["folders", f"imaps://{user}@127.0.0.1:1", *ca],
        "missing-folder": ["ls", url(server, user), "No/Such/Folder", *ca],
    }[case]
    if case == "wrong-password":
        monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", "definitely-wrong-Zq8")
    code, out, err = run(capsys, *argv, "--debug" if case == "wrong-password" else "--json")
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("mailmig: ")]
    assert len(lines) == 1 and expected in lines[0], err
    assert "Traceback" not in err or case == "wrong-password"
    assert password not in out + err
    assert "definitely-wrong-Zq8" not in out + err


def test_starttls_is_required_for_imap_urls(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = DovecotServer(shape="slash", ssl=False).start()
    try:
        user = server.new_user()
        monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", server.password(user))
        code, _out, err = run(capsys, "folders", url(server, user, scheme="imap"))
        assert code == 2
        assert "does not offer STARTTLS" in err
    finally:
        server.cleanup()


def test_starttls_and_plain_loopback_work(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, slash_server: DovecotServer
) -> None:
    user = slash_server.new_user()
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", slash_server.password(user))
    ca = ["--ca-file", str(slash_server.ca_file)]
    assert run(capsys, "folders", url(slash_server, user, scheme="imap"), *ca)[0] == 0
    plain = url(slash_server, user, scheme="imap+plain", host="127.0.0.1")
    assert run(capsys, "folders", plain)[0] == 0


def test_password_never_in_argv_output_or_debug_log(slash_server: DovecotServer) -> None:
    """A real subprocess with --debug: imapclient's protocol log must not show the password."""
    seeded_user = slash_server.new_user()
    client = slash_server.client(seeded_user)
    client.append("INBOX", b"Subject: hi\r\n\r\nbody\r\n")
    client.logout()
    password = slash_server.password(seeded_user)
    env = {
        "MAILMIG_SOURCE_PASSWORD": password,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailmig_tui",
            "ls",
            url(slash_server, seeded_user),
            "INBOX",
            "--ca-file",
            str(slash_server.ca_file),
            "--debug",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "LOGIN" in result.stderr  # the debug log really shows the protocol
    assert password not in result.stdout + result.stderr


def test_no_password_anywhere_gives_a_clear_error(
    capsys: pytest.CaptureFixture[str], slash_server: DovecotServer
) -> None:
    code, _out, err = run(capsys, "folders", url(slash_server, "nobody-here"))
    assert code == 2
    assert "MAILMIG_SOURCE_PASSWORD" in err
