"""Wrong values for every command-line option and config field, through the real `main()`.

Each must end with exit status 2 and exactly one line on stderr, `mailmig: <the problem>
(<what to do>)`, no traceback, nothing on stdout, and nothing written to the target: a
separate imapclient login afterwards finds the target user's mailbox as fresh as it was
(INBOX only, empty). Every case gets a target user no other case touched.

"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mailmig_tui.cli import main
from tests.security.conftest import PERMISSIONS_IGNORED, mailbox_state, seed_small
from tests.support.dovecot import DovecotServer

SECRET_IN_INPUT = "hunter2-Zq8"
"""A password typed where it does not belong (URL, config, CSV): never echoed back."""


@dataclass(frozen=True)
class BadInput:
    """One wrong input. Strings may hold {placeholders}, filled from `Place.values`."""

    id: str
    argv: tuple[str, ...]
    words: tuple[str, ...]
    """What the line must say about the problem."""
    hint: tuple[str, ...] = ()
    """What the hint (the last parenthesis) must say about the fix."""
    config: str | None = None
    """config.toml text; None: no config file."""
    env: dict[str, str] = field(default_factory=dict)
    bug: str | None = None
    needs_chmod: bool = False
    """Relies on permissions, which root ignores: skipped then (other cases cover the error)."""


S, T = "{S}", "{T}"
COPY = ("copy", S, T)
ACCOUNT_X = '[accounts.x]\nhost = "127.0.0.1"\nuser = "{SU}"\nsecurity = "plain"\n'

CASES: list[BadInput] = [
    # Account URLs.
    BadInput(
        "unknown-scheme",
        ("folders", "imapx://{SU}@127.0.0.1:{IMAP}"),
        ("unknown account URL scheme 'imapx'",),
    ),
    BadInput("port-0", ("folders", "imap+plain://{SU}@127.0.0.1:0"), ("bad port",)),
    BadInput("port-70000", ("folders", "imap+plain://{SU}@127.0.0.1:70000"), ("bad port",)),
    BadInput("port-abc", ("folders", "imap+plain://{SU}@127.0.0.1:abc"), ("bad port",)),
    BadInput("missing-user", ("folders", "imap+plain://127.0.0.1:{IMAP}"), ("has no user",)),
    BadInput("missing-host", ("folders", "imap+plain://{SU}@"), ("has no host",)),
    BadInput(
        "url-with-path",
        ("folders", "imap+plain://{SU}@127.0.0.1:{IMAP}/INBOX"),
        ("unexpected path",),
    ),
    BadInput("unknown-saved-account", ("folders", "nosuch"), ("unknown saved account 'nosuch'",)),
    BadInput(
        "password-in-url",
        ("folders", "imap+plain://{SU}:" + SECRET_IN_INPUT + "@127.0.0.1:{IMAP}"),
        ("password does not belong",),
        ("MAILMIG_SOURCE_PASSWORD",),
    ),
    BadInput(
        "password-in-url-with-bad-scheme",
        ("copy", "imapx://{SU}:" + SECRET_IN_INPUT + "@127.0.0.1:{IMAP}", T),
        ("password does not belong",),
    ),
    BadInput(
        "plaintext-to-a-remote-host",
        ("folders", "imap+plain://{SU}@mail.example.invalid"),
        ("refusing to send a password unencrypted",),
        ("--allow-plaintext",),
    ),
    BadInput(
        "mbox-as-target", ("copy", S, "mbox:///{tmp}/mbox"), ("can only be a source",), ("copy",)
    ),
    BadInput(
        "pop3-as-target", ("copy", S, "pop3s://{TU}@localhost:{POP3S}"), ("can only be a source",)
    ),
    # Command accounts and missing arguments.
    BadInput("command-empty", ("folders", "--source-command", ""), ("command is empty",)),
    BadInput(
        "command-unbalanced-quote",
        ("folders", "--source-command", "ssh 'oops"),
        ("No closing quotation",),
    ),
    BadInput(
        "one-account-argument-too-many",
        ("folders", "--source-command", "true", S),
        ("one account argument too many",),
    ),
    BadInput("copy-without-target", ("copy", S), ("no target account",)),
    BadInput("verify-without-target", ("verify", S), ("no target account",)),
    BadInput("ls-without-folder", ("ls", S), ("ls needs ACCOUNT and FOLDER",)),
    # TLS files.
    BadInput(
        "ca-file-missing",
        ("folders", "{SS}", "--ca-file", "{tmp}/nope.pem"),
        ("cannot read the CA file",),
    ),
    BadInput(
        "ca-file-is-a-directory",
        ("folders", "{SS}", "--ca-file", "{tmp}"),
        ("cannot read the CA file",),
    ),
    BadInput(
        "ca-file-unreadable",
        ("folders", "{SS}", "--ca-file", "{unreadable}"),
        ("cannot read the CA file",),
        needs_chmod=True,
    ),
    BadInput(
        "ca-file-not-pem",
        ("folders", "{SS}", "--ca-file", "{garbage}"),
        ("holds no PEM certificate",),
    ),
    # Folder selection and mapping.
    BadInput(
        "map-missing-source-folder",
        (*COPY, "--map", "Nope=Somewhere"),
        ("--map names a source folder that does not exist: Nope",),
    ),
    BadInput(
        "map-missing-source-folder-in-verify",
        ("verify", S, T, "--map", "Nope=X"),
        ("--map names a source folder that does not exist: Nope",),
    ),
    BadInput(
        "map-contradictory-targets",
        (*COPY, "--map", "Work=Arbeit", "--map", "Work=Travail"),
        ("two --map options give different targets",),
    ),
    BadInput("map-without-equals", (*COPY, "--map", "Work"), ("--map needs SOURCE=TARGET",)),
    BadInput("map-empty-target", (*COPY, "--map", "Work="), ("--map needs SOURCE=TARGET",)),
    BadInput("folder-matches-nothing", (*COPY, "--folder", "Nope"), ("no folder matches 'Nope'",)),
    # Numbers.
    BadInput("limit-0", ("ls", S, "INBOX", "--limit", "0"), ("--limit must be 1 or more",)),
    BadInput("limit-negative", ("ls", S, "INBOX", "--limit", "-3"), ("--limit must be 1 or more",)),
    BadInput("limit-abc", ("ls", S, "INBOX", "--limit", "abc"), ("--limit",)),
    BadInput(
        "max-size-negative", (*COPY, "--max-size", "-1"), ("--max-size must be a positive number",)
    ),
    BadInput("max-size-0", (*COPY, "--max-size", "0"), ("--max-size must be a positive number",)),
    BadInput("connections-0", (*COPY, "--connections", "0"), ("--connections must be 1 or more",)),
    BadInput("timeout-negative", (*COPY, "--timeout", "-1"), ("--timeout",)),
    BadInput("timeout-0", (*COPY, "--timeout", "0"), ("--timeout",)),
    BadInput("timeout-abc", (*COPY, "--timeout", "abc"), ("--timeout",)),
    BadInput("preset-unknown", (*COPY, "--target-preset", "bogus"), ("bogus",)),
    BadInput("unknown-option", (*COPY, "--frobnicate"), ("--frobnicate",)),
    BadInput(
        "report-in-a-missing-directory",
        (*COPY, "--report", "{tmp}/no/such/dir/r.json"),
        ("cannot write the report",),
    ),
    # Batches.
    BadInput(
        "batch-parallel-0",
        ("batch", "{csv}", "--parallel", "0"),
        ("--parallel and --connections must be 1 or more",),
    ),
    BadInput(
        "batch-connections-0",
        ("batch", "{csv}", "--connections", "0"),
        ("--parallel and --connections must be 1 or more",),
    ),
    BadInput("batch-csv-missing", ("batch", "{tmp}/missing.csv"), ("cannot read the batch file",)),
    BadInput("batch-csv-is-a-directory", ("batch", "{tmp}"), ("cannot read the batch file",)),
    BadInput(
        "batch-csv-unreadable",
        ("batch", "{unreadable}"),
        ("cannot read the batch file",),
        needs_chmod=True,
    ),
    BadInput(
        "batch-csv-without-source-target", ("batch", "{nocols}"), ("names no source and target",)
    ),
    BadInput(
        "batch-csv-with-a-password-column",
        ("batch", "{pwcsv}"),
        ("holds a password column",),
        ("--passwords-in-csv",),
    ),
    BadInput(
        "batch-passwords-file-readable-by-others",
        ("batch", "{csv}", "--passwords-file", "{pwfile}"),
        ("readable by others",),
        ("chmod 600",),
    ),
    BadInput("coexistence-without-a-journal", ("coexistence",), ("the journal is empty",)),
    # The config file.
    BadInput(
        "config-toml-syntax-error",
        ("folders", "x"),
        ("not valid TOML",),
        config="[accounts.x\nhost=1\n",
    ),
    BadInput(
        "config-password-field",
        ("folders", "x"),
        ("passwords never go",),
        config=ACCOUNT_X + 'password = "' + SECRET_IN_INPUT + '"\n',
    ),
    BadInput(
        "config-timeout-negative",
        ("folders", S),
        ("settings.timeout",),
        ("timeout = 30",),
        config="[settings]\ntimeout = -5\n",
    ),
    BadInput(
        "config-timeout-text",
        ("folders", S),
        ("settings.timeout",),
        ("timeout = 30",),
        config='[settings]\ntimeout = "soon"\n',
    ),
    BadInput(
        "config-accounts-not-a-table",
        ("folders", "x"),
        ("must be a table",),
        config='[accounts]\nx = "imaps://a@b"\n',
    ),
    BadInput(
        "config-account-without-user",
        ("folders", "x"),
        ("lacks 'user'",),
        config='[accounts.x]\nhost = "h"\n',
    ),
    BadInput(
        "config-bad-security",
        ("folders", "x"),
        ("not a valid Security",),
        config='[accounts.x]\nhost = "h"\nuser = "u"\nsecurity = "ssl3"\n',
    ),
    BadInput(
        "config-bad-protocol",
        ("folders", "x"),
        ("unknown protocol 'smtp'",),
        config='[accounts.x]\nhost = "h"\nuser = "u"\nprotocol = "smtp"\n',
    ),
    BadInput(
        "config-port-text",
        ("folders", "x"),
        ("port must be a number",),
        config=ACCOUNT_X + 'port = "abc"\n',
    ),
    BadInput(
        "config-port-0",
        ("folders", "x"),
        ("port must be a number",),
        config=ACCOUNT_X + "port = 0\n",
    ),
    BadInput(
        "config-port-70000",
        ("folders", "x"),
        ("port must be a number",),
        config=ACCOUNT_X + "port = 70000\n",
    ),
    BadInput(
        "config-ca-file-missing",
        ("folders", "x"),
        ("cannot read the CA file",),
        config=ACCOUNT_X + 'port = {IMAP}\nca_file = "{tmp}/gone.pem"\n',
    ),
    BadInput(
        "config-is-a-directory",
        ("folders", S),
        ("cannot read the config file",),
        config="<directory>",
    ),
    # The state directory.
    BadInput(
        "state-dir-below-a-file",
        COPY,
        ("cannot use the directory",),
        ("writable",),
        env={"MAILMIG_STATE_DIR": "{file}/state"},
    ),
    BadInput(
        "state-dir-is-a-file",
        COPY,
        ("cannot use the directory",),
        ("writable",),
        env={"MAILMIG_STATE_DIR": "{file}"},
    ),
    BadInput(
        "state-dir-read-only",
        COPY,
        ("cannot use the directory",),
        ("writable",),
        env={"MAILMIG_STATE_DIR": "{locked}"},
        needs_chmod=True,
    ),
    BadInput(
        "state-dir-below-a-read-only-dir",
        COPY,
        ("cannot use the directory",),
        ("writable",),
        env={"MAILMIG_STATE_DIR": "{locked}/state"},
        needs_chmod=True,
    ),
]


def _param(case: BadInput) -> Any:
    marks: list[pytest.MarkDecorator] = []
    if case.bug:
        marks.append(pytest.mark.xfail(strict=True, reason=case.bug))
    if case.needs_chmod:
        marks.append(
            pytest.mark.skipif(PERMISSIONS_IGNORED, reason="root reads and writes despite chmod")
        )
    return pytest.param(case, id=case.id, marks=marks)


def split_hint(line: str) -> tuple[str, str]:
    """(problem, hint): the hint is the last balanced parenthesis ending the line."""
    if not line.endswith(")"):
        return line, ""
    depth = 0
    for index in range(len(line) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(line[index], 0)
        if depth == 0:
            return line[:index].rstrip(), line[index + 1 : -1]
    return line, ""


@dataclass
class Place:
    """The accounts and files a case's placeholders name."""

    server: DovecotServer
    target_user: str
    values: dict[str, str]

    def fill(self, text: str) -> str:
        return text.format(**self.values)


@pytest.fixture(scope="module")
def bad_source(canary_server: DovecotServer) -> str:
    """A source user with an INBOX and a Work folder, shared read-only by every case."""
    user = canary_server.new_user()
    seed_small(canary_server, user, {"INBOX": 3, "Work": 2})
    return user


@pytest.fixture
def place(
    canary_server: DovecotServer,
    bad_source: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Place]:
    server = canary_server
    target = server.new_user()
    monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", server.password(bad_source))
    monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", server.password(target))
    work = tmp_path / "inputs"
    work.mkdir()
    source_url = f"imap+plain://{bad_source}@127.0.0.1:{server.imap_port}"
    target_url = f"imap+plain://{target}@127.0.0.1:{server.imap_port}"
    (work / "plain-file").write_text("a regular file\n")
    (work / "garbage.pem").write_text("this is not a certificate\n")
    (work / "users.csv").write_text(
        f"source,target,source_password_env,target_password_env\n{source_url},{target_url},"
        "MAILMIG_SOURCE_PASSWORD,MAILMIG_TARGET_PASSWORD\n"
    )
    (work / "no-columns.csv").write_text("name,mail\nalice,alice@example.test\n")
    (work / "password-column.csv").write_text(
        f"source,target,source_password\n{source_url},{target_url},{SECRET_IN_INPUT}\n"
    )
    passwords = work / "passwords.tsv"
    passwords.write_text(f"{target_url}\t{SECRET_IN_INPUT}\n")
    passwords.chmod(0o644)
    unreadable = work / "unreadable"
    unreadable.write_text("x\n")
    unreadable.chmod(0)
    locked = work / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    values = {
        "S": source_url,
        "T": target_url,
        "SS": f"imaps://{bad_source}@localhost:{server.imaps_port}",
        "SU": bad_source,
        "TU": target,
        "IMAP": str(server.imap_port),
        "POP3S": str(server.pop3s_port),
        "tmp": str(work),
        "file": str(work / "plain-file"),
        "garbage": str(work / "garbage.pem"),
        "csv": str(work / "users.csv"),
        "nocols": str(work / "no-columns.csv"),
        "pwcsv": str(work / "password-column.csv"),
        "pwfile": str(passwords),
        "unreadable": str(unreadable),
        "locked": str(locked),
    }
    try:
        yield Place(server, target, values)
    finally:
        locked.chmod(0o700)  # so that pytest can remove tmp_path


def run_case(case: BadInput, place: Place, home: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """Set up the config and environment of `case`, then run `main()` capturing stdout/err."""
    if case.config is not None:
        config = home / "config" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        if case.config == "<directory>":
            config.mkdir()
        else:
            config.write_text(place.fill(case.config))
    for name, value in case.env.items():
        monkeypatch.setenv(name, place.fill(value))
    argv = [place.fill(arg) for arg in case.argv]
    return main(argv)


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    case: BadInput,
    place: Place,
    isolated_mailmig: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = run_case(case, place, isolated_mailmig, monkeypatch)
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    assert SECRET_IN_INPUT not in out + err, "a password from the input was echoed"
    assert code == 2, (code, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mailmig: "), f"not one line:\n{err}"
    problem, hint = split_hint(lines[0])
    assert hint, f"no hint in parentheses: {lines[0]}"
    for words in case.words:
        assert words in lines[0], f"{words!r} not in {lines[0]!r}"
    for words in case.hint:
        assert words in hint, f"{words!r} not in the hint {hint!r}"
    assert problem.removeprefix("mailmig: ").strip()
    assert out == "", out
    state = mailbox_state(place.server, place.target_user)
    assert state == {"INBOX": 0}, f"the target was changed: {state}"


def test_the_bad_inputs_cover_the_issue_list() -> None:
    """The issue names these inputs; each must stay among the cases above."""
    ids = {case.id for case in CASES}
    required = {
        "unknown-scheme",
        "port-0",
        "port-70000",
        "port-abc",
        "missing-user",
        "unknown-saved-account",
        "ca-file-missing",
        "map-missing-source-folder",
        "map-contradictory-targets",
        "map-without-equals",
        "limit-0",
        "max-size-negative",
        "connections-0",
        "timeout-negative",
        "config-toml-syntax-error",
        "config-password-field",
        "state-dir-below-a-file",
        "batch-csv-missing",
        "batch-csv-without-source-target",
    }
    assert required <= ids, required - ids
    assert len(ids) == len(CASES), "case ids must be unique"
    assert os.path.sep not in "".join(ids)
