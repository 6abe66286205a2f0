"""`mailmig copy` and `mailmig verify` between real Dovecot servers of both shapes."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from mailmig_tui.cli import main
from tests.support.corpus import SeedMessage, standard_corpus, standard_folders
from tests.support.dovecot import DovecotServer
from tests.support.seeding import folder_contents, seed_mailbox

SHAPE_PAIRS = [("slash", "courier"), ("courier", "slash")]


def plain_url(server: DovecotServer, user: str) -> str:
    return f"imap+plain://{user}@127.0.0.1:{server.imap_port}"


class Migration:
    """A seeded source user and an empty target user, with the CLI pointed at both."""

    def __init__(
        self,
        source: DovecotServer,
        target: DovecotServer,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        messages: list[SeedMessage] | None = None,
    ) -> None:
        self.source, self.target = source, target
        self.source_user, self.target_user = source.new_user(), target.new_user()
        self.messages = standard_corpus() if messages is None else messages
        seed_mailbox(source, self.source_user, standard_folders(), self.messages)
        monkeypatch.setenv("MAILMIG_SOURCE_PASSWORD", source.password(self.source_user))
        monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", target.password(self.target_user))
        self.report_path = tmp_path / "report.json"

    @property
    def urls(self) -> list[str]:
        return [plain_url(self.source, self.source_user), plain_url(self.target, self.target_user)]

    def copy(self, *extra: str) -> tuple[int, dict[str, object]]:
        code = main(["copy", *self.urls, "--report", str(self.report_path), *extra])
        report = json.loads(self.report_path.read_text()) if self.report_path.exists() else {}
        return code, report

    def verify(self, *extra: str) -> int:
        return main(["verify", *self.urls, *extra])


@pytest.fixture
def shapes(request: pytest.FixtureRequest) -> tuple[DovecotServer, DovecotServer]:
    source_shape, target_shape = request.param
    return (
        request.getfixturevalue(f"{source_shape}_server"),
        request.getfixturevalue(f"{target_shape}_server"),
    )


@pytest.fixture
def run(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Migration:
    """The standard corpus on a slash-shaped source, to an empty courier-shaped target."""
    return Migration(slash_server, courier_server, monkeypatch, tmp_path)


@pytest.fixture
def empty_run(
    slash_server: DovecotServer,
    courier_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Migration:
    """Like `run`, with no message seeded: the test puts on the source what it needs."""
    return Migration(slash_server, courier_server, monkeypatch, tmp_path, messages=[])


def fingerprint(entry: dict[bytes, object]) -> tuple[str, tuple[str, ...], float]:
    body = entry[b"BODY[]"]
    assert isinstance(body, bytes)
    flags = tuple(sorted(f.decode() for f in entry[b"FLAGS"] if f != b"\\Recent"))  # type: ignore[attr-defined]
    when = entry[b"INTERNALDATE"].timestamp()  # type: ignore[attr-defined]
    return hashlib.sha256(body).hexdigest(), flags, when


def expected_target_folder(target: DovecotServer, parts: tuple[str, ...]) -> str:
    return target.folder_name(parts)


@pytest.mark.parametrize(
    "shapes", SHAPE_PAIRS, indirect=True, ids=["slash-to-courier", "courier-to-slash"]
)
def test_copy_is_byte_exact_with_flags_dates_and_mapping(
    shapes: tuple[DovecotServer, DovecotServer],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, target = shapes
    run = Migration(source, target, monkeypatch, tmp_path)
    code, report = run.copy()
    assert code == 0, capsys.readouterr().err
    assert report["copied"] == len(run.messages)
    assert report["failed"] == 0
    assert report["bytes"] == sum(len(m.data) for m in run.messages)
    by_folder: dict[tuple[str, ...], list[SeedMessage]] = {}
    for message in run.messages:
        by_folder.setdefault(message.folder, []).append(message)
    for folder in standard_folders():
        source_name = source.folder_name(folder.parts)
        target_name = target.folder_name(folder.parts)
        want = Counter(
            fingerprint(e) for e in folder_contents(source, run.source_user, source_name)
        )
        got = Counter(fingerprint(e) for e in folder_contents(target, run.target_user, target_name))
        assert got == want, f"{source_name} -> {target_name}"
        assert len(got) == len(set(by_folder.get(folder.parts, [])) or []) or want
    # Source UID order is kept on the target within a folder.
    src = [fingerprint(e)[0] for e in folder_contents(source, run.source_user, "INBOX")]
    dst = [fingerprint(e)[0] for e in folder_contents(target, run.target_user, "INBOX")]
    assert src == dst


@pytest.mark.parametrize("shapes", SHAPE_PAIRS[:1], indirect=True)
def test_rerun_copies_nothing_and_verify_is_clean(
    shapes: tuple[DovecotServer, DovecotServer],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    run = Migration(*shapes, monkeypatch, tmp_path)
    assert run.copy()[0] == 0
    code, report = run.copy()
    assert code == 0
    assert report["copied"] == 0
    assert report["already_present"] == len(run.messages)
    assert run.verify() == 0


def test_flags_changed_on_the_source_follow_on_rerun(
    run: Migration,
) -> None:
    assert run.copy()[0] == 0
    client = run.source.client(run.source_user)
    client.select_folder("INBOX")
    first = min(client.search(["ALL"]))
    client.add_flags([first], ["$label2", "\\Flagged"])
    client.logout()
    code, report = run.copy()
    assert code == 0 and report["copied"] == 0
    assert report["folders"][0]["flags_updated"] == 1  # type: ignore[index]
    source_prints = Counter(
        fingerprint(e) for e in folder_contents(run.source, run.source_user, "INBOX")
    )
    target_prints = Counter(
        fingerprint(e) for e in folder_contents(run.target, run.target_user, "INBOX")
    )
    assert source_prints == target_prints


def test_existing_copies_on_the_target_are_not_duplicated(
    run: Migration,
) -> None:
    """Another tool (or an APPEND whose answer was lost) already put some messages there."""
    inbox = [m for m in run.messages if m.folder == ("INBOX",)]
    already = inbox[::2]
    seed_mailbox(run.target, run.target_user, [], already)
    code, report = run.copy()
    assert code == 0
    assert report["copied"] == len(run.messages) - len(already)
    target = folder_contents(run.target, run.target_user, "INBOX")
    assert len(target) == len(inbox)
    assert Counter(fingerprint(e)[0] for e in target) == Counter(
        hashlib.sha256(m.data).hexdigest() for m in inbox
    )


def test_same_message_id_with_different_content_and_no_message_id_are_each_copied_once(
    run: Migration,
) -> None:
    ids = Counter(m.message_id for m in run.messages if m.message_id)
    shared = [mid for mid, n in ids.items() if n > 1]
    assert shared, "the corpus must hold two messages sharing a Message-ID"
    assert run.copy()[0] == 0
    assert run.copy()[0] == 0
    wanted = Counter(
        hashlib.sha256(m.data).hexdigest()
        for m in run.messages
        if m.message_id in shared or not m.message_id
    )
    got: Counter[str] = Counter()
    for folder in standard_folders():
        for entry in folder_contents(
            run.target, run.target_user, run.target.folder_name(folder.parts)
        ):
            digest = fingerprint(entry)[0]
            if digest in wanted:
                got[digest] += 1
    assert got == wanted


def test_dry_run_changes_nothing(
    isolated_mailmig: Path,
    run: Migration,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    code = main(["copy", *run.urls, "--dry-run", "--json"])
    assert code == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["to_copy"] == len(run.messages)
    client = run.target.client(run.target_user)
    names = [name for _f, _d, name in client.list_folders()]
    client.select_folder("INBOX")
    assert names == ["INBOX"] and client.search(["ALL"]) == []
    client.logout()
    assert not (isolated_mailmig / "state" / "journal.sqlite3").exists()


def test_special_folders_map_by_role_across_languages(
    slash_server: DovecotServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    german = DovecotServer(
        shape="slash",
        special_use={
            "Gesendete Elemente": "\\Sent",
            "Entwürfe": "\\Drafts",
            "Gelöschte Elemente": "\\Trash",
            "Junk-E-Mail": "\\Junk",
            "Archiv": "\\Archive",
        },
    ).start()
    try:
        user = german.new_user()
        client = german.client(user)
        for name in (
            "Gesendete Elemente",
            "Entwürfe",
            "Gelöschte Elemente",
            "Junk-E-Mail",
            "Archiv",
        ):
            client.create_folder(name)
        client.logout()
        run = Migration(slash_server, german, monkeypatch, tmp_path)
        run.target_user = user
        monkeypatch.setenv("MAILMIG_TARGET_PASSWORD", german.password(user))
        # The source's own "Entwürfe" (ordinary there) would land in the target's Drafts:
        # refused rather than merged behind the operator's back.
        code, _report = run.copy()
        assert code == 2
        code, report = run.copy(
            "--map", "Entwürfe=Entwürfe (alt)", "--map", "Gelöschte Elemente=Alter Papierkorb"
        )
        assert code == 0
        targets = {f["source"]: f["target"] for f in report["folders"]}  # type: ignore[union-attr]
        assert targets["Sent"] == "Gesendete Elemente"
        assert targets["Drafts"] == "Entwürfe"
        assert targets["Trash"] == "Gelöschte Elemente"
        assert targets["Junk"] == "Junk-E-Mail"
        assert targets["Archive/2023"] == "Archiv/2023"
        assert targets["Entwürfe"] == "Entwürfe (alt)"
    finally:
        german.cleanup()


def test_unicode_and_empty_folders_are_created_as_unicode(
    run: Migration,
) -> None:
    assert run.copy()[0] == 0
    client = run.target.client(run.target_user)
    client.folder_encode = False
    raw = {name for _f, _d, name in client.list_folders()}
    client.logout()
    assert b"INBOX.Entw&APw-rfe" in raw
    assert not any(b"&APw-" in name and b"&-" in name for name in raw)
    assert b"INBOX.Leer" in raw  # empty folders are created too
    assert b"INBOX.Projects.Kunden.M&APw-ller GmbH" in raw


def test_too_large_message_is_reported_with_exit_1_and_the_rest_copied(
    slash_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    small = DovecotServer(shape="courier", max_mail_size=200_000).start()
    try:
        run = Migration(slash_server, small, monkeypatch, tmp_path)
        big = [m for m in run.messages if len(m.data) > 200_000]
        assert big, "the corpus must hold a message over 200 KB"
        code, report = run.copy()
        err = capsys.readouterr().err
        assert code == 1, err
        assert report["too_large"] == len(big)
        assert report["failed"] == 0
        assert report["copied"] == len(run.messages) - len(big)
        assert "too large" in err
    finally:
        small.cleanup()


def test_max_size_option_counts_as_too_large_before_sending(
    run: Migration,
) -> None:
    code, report = run.copy("--max-size", "100000")
    big = [m for m in run.messages if len(m.data) > 100_000]
    assert code == 1
    assert report["too_large"] == len(big) > 0


def test_verify_names_a_message_deleted_on_the_target_and_copy_restores_it(
    run: Migration,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run.copy()[0] == 0
    client = run.target.client(run.target_user)
    client.select_folder("INBOX")
    victim = min(client.search(["ALL"]))
    subject = client.fetch([victim], ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    client.delete_messages([victim])
    client.expunge([victim])  # UID EXPUNGE: the copied \\Deleted message must stay
    client.logout()
    capsys.readouterr()
    assert run.verify("--json") == 1
    result = json.loads(capsys.readouterr().out)
    assert result["missing"] == 1
    [inbox] = [f for f in result["folders"] if f["source"] == "INBOX"]
    assert len(inbox["missing"]) == 1
    assert subject  # the missing one is named (UID, subject, Message-ID) in the JSON
    code, report = run.copy()
    assert code == 0 and report["copied"] == 1
    assert run.verify() == 0


def test_uidvalidity_change_on_the_source_matches_by_content(
    run: Migration,
) -> None:
    assert run.copy("--folder", "Archive/2023")[0] == 0
    # Recreate the source folder: same messages, new UIDVALIDITY, new UIDs.
    client = run.source.client(run.source_user)
    before = client.folder_status("Archive/2023", ["UIDVALIDITY"])[b"UIDVALIDITY"]
    client.delete_folder("Archive/2023")
    client.logout()
    seed_mailbox(
        run.source,
        run.source_user,
        [],
        [m for m in run.messages if m.folder == ("Archive", "2023")],
    )
    client = run.source.client(run.source_user)
    assert client.folder_status("Archive/2023", ["UIDVALIDITY"])[b"UIDVALIDITY"] != before
    client.logout()
    code, report = run.copy("--folder", "Archive/2023")
    assert code == 0
    assert report["copied"] == 0
    assert report["already_present"] == len(
        [m for m in run.messages if m.folder == ("Archive", "2023")]
    )


def test_options_after_the_subcommand_and_bad_map(
    empty_run: Migration,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    assert main(["copy", *empty_run.urls, "--map", "Nope=Somewhere", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mailmig: ") and "Nope" in err and len(err.strip().splitlines()) == 1
    assert (
        main(
            [
                "copy",
                *empty_run.urls,
                "--map",
                "Sent=Old Sent",
                "--dry-run",
                "--json",
                "--timeout",
                "20",
            ]
        )
        == 0
    )
    plan = json.loads(capsys.readouterr().out)
    assert {f["source"]: f["target"] for f in plan["folders"]}["Sent"] == "Old Sent"


def test_quota_that_will_not_hold_the_copy_is_warned_in_the_plan(
    slash_server: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    small = DovecotServer(shape="slash", quota_bytes=100_000).start()
    try:
        run = Migration(slash_server, small, monkeypatch, tmp_path)
        capsys.readouterr()
        assert main(["copy", *run.urls, "--dry-run", "--json"]) == 0
        captured = capsys.readouterr()
        plan = json.loads(captured.out)
        assert 0 < plan["quota"][1] <= 101_000  # Dovecot reports whole KiB, rounded up
        assert "quota will not hold" in captured.err
        # The real run stops each folder cleanly when the target is full and says so.
        code, report = run.copy()
        assert code == 1
        errors = [f["error"] for f in report["folders"] if f["error"]]  # type: ignore[index]
        assert errors and all("quota" in e for e in errors)
        assert report["copied"] > 0
    finally:
        small.cleanup()


def test_folder_created_meanwhile_by_another_client_is_success(
    courier_server: DovecotServer,
) -> None:
    from mailmig_tui.model import AccountSpec, Security
    from mailmig_tui.stores.imap import connect_imap

    user = courier_server.new_user()
    spec = AccountSpec(
        kind="imap",
        user=user,
        host="127.0.0.1",
        port=courier_server.imap_port,
        security=Security.PLAIN,
    )
    store = connect_imap(spec, courier_server.password(user), readonly=False)
    with store:
        other = courier_server.client(user)
        other.create_folder("INBOX.Neu")  # another session gets there first
        other.logout()
        store.create_folder("INBOX.Neu")  # answered NO [ALREADYEXISTS]: still success
        assert "INBOX.Neu" in {f.name for f in store.list_folders(with_status=False)}


def test_a_source_name_holding_the_target_delimiter_is_renamed_reversibly(
    empty_run: Migration,
) -> None:
    client = empty_run.source.client(empty_run.source_user)
    client.create_folder("v1.2 Release")
    client.append("v1.2 Release", b"Subject: dotted\r\n\r\nx\r\n")
    client.logout()
    code, report = empty_run.copy("--folder", "v1.2 Release")
    assert code == 0
    [folder] = report["folders"]  # type: ignore[misc]
    assert folder["target"] == "INBOX.v1%2E2 Release"
    assert (
        len(folder_contents(empty_run.target, empty_run.target_user, "INBOX.v1%2E2 Release")) == 1
    )


def test_the_folder_map_saved_in_the_tui_applies_to_the_cli_copy(
    run: Migration,
) -> None:
    """The README: a map chosen in the TUI is "used by every later copy between them". A
    saved entry for a folder gone from the source is left out, not an error; --map wins."""
    from mailmig_tui.accounts import parse_account_url
    from mailmig_tui.engine.saved_maps import save_overrides

    source, target = (parse_account_url(url) for url in run.urls)
    save_overrides(
        source, target, {"Projects": "INBOX.Old Projects", "Gone": "INBOX.Nowhere", "Sent": "x"}
    )
    code, report = run.copy("--map", "Sent=INBOX.Sent mail")
    assert code == 0, report
    targets = {f["source"]: f["target"] for f in report["folders"]}  # type: ignore[union-attr]
    assert targets["Projects"] == "INBOX.Old Projects"
    assert targets["Sent"] == "INBOX.Sent mail"
    assert "Gone" not in targets
    client = run.target.client(run.target_user)
    try:
        names = {str(name) for _flags, _delim, name in client.list_folders()}
    finally:
        client.logout()
    assert {"INBOX.Old Projects", "INBOX.Sent mail"} <= names and "INBOX.Nowhere" not in names
