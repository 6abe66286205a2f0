"""The copy's headless parts as the TUI uses them: progress counting and throttling (the
engine's tracker, with the check after the copy as its own phase), selections, the folder
map (conflicts, merges, saved files), estimates and the per-run log the service writes.

The log and the rate moved from the TUI to the engine (`engine.copy_log`, `engine.rates`);
these tests follow them there, since the TUI's report and plan show what they say."""

from __future__ import annotations

import stat
from pathlib import Path

from mailmig_tui.engine.copy_log import CopyLog
from mailmig_tui.engine.events import (
    CopyReport,
    Failure,
    Finished,
    FolderDone,
    FolderReport,
    FolderStarted,
    MessageCopied,
    MessageFailed,
    MessageRef,
    Reconnecting,
    Verifying,
)
from mailmig_tui.engine.folder_map import compute_map
from mailmig_tui.engine.progress import ProgressTracker, Throttle
from mailmig_tui.engine.rates import DEFAULT_RATE, estimate, load_rate, save_rate
from mailmig_tui.engine.saved_maps import load_overrides, map_path, save_overrides
from mailmig_tui.engine.verify import FolderCheck, VerifyReport
from mailmig_tui.model import AccountSpec, FolderInfo
from mailmig_tui.secrets import redact
from mailmig_tui.stores.maildir import MaildirStore
from mailmig_tui.tui.browse.marks import MarkSet
from mailmig_tui.tui.copy.selection import exact_pattern, selection_from
from mailmig_tui.tui.copy.text import duration, estimate_text, overall, progress_line
from mailmig_tui.tui.demo_data import make_maildir


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_thousand_messages_a_second_give_ten_snapshots_a_second() -> None:
    clock = FakeClock()
    tracker = ProgressTracker([("INBOX", "INBOX", 5000, 5_000_000)], clock)
    throttle = Throttle(0.1, clock)
    posted = 0
    events = [FolderStarted("INBOX", "INBOX", 5000, 5_000_000)]
    events += [MessageCopied(MessageRef("INBOX", uid, 1000)) for uid in range(1, 5001)]
    for event in events:
        clock.now += 0.001  # 1,000 messages a second
        if throttle.ready(tracker.feed(event)):
            posted += 1
            tracker.snapshot()
    assert 45 <= posted <= 55  # five seconds at ~10 a second, not 5,000
    snapshot = tracker.snapshot()
    assert (snapshot.copied, snapshot.processed, snapshot.copied_bytes) == (5000, 5000, 5_000_000)
    assert 900 < snapshot.messages_per_second < 1100
    assert snapshot.eta == 0.0


def test_tracker_counts_failures_notices_and_folder_states() -> None:
    clock = FakeClock()
    tracker = ProgressTracker([("A", "A", 10, 1000), ("B", "B", 5, 500)], clock)
    assert tracker.snapshot().eta is None  # no rate yet
    tracker.feed(FolderStarted("A", "A", 10, 1000))
    for uid in range(1, 5):
        clock.now += 0.5
        tracker.feed(MessageCopied(MessageRef("A", uid, 100)))
    tracker.feed(MessageFailed(Failure(MessageRef("A", 9, 100, "Hi"), "NO refused")))
    tracker.feed(MessageFailed(Failure(MessageRef("A", 10, 9**9), "too big", too_large=True)))
    assert tracker.feed(Reconnecting("source and target", 1, 2.0, "connection reset"))
    tracker.feed(FolderDone(FolderReport("A", "A", error="the target is full")))
    snapshot = tracker.snapshot()
    [a, b] = snapshot.folders
    assert (a.copied, a.failed, a.processed, a.state, a.error) == (
        4,
        1,
        5,
        "stopped",
        "the target is full",
    )
    assert b.state == "waiting"
    assert (snapshot.failed, snapshot.too_large, snapshot.failure_count) == (1, 1, 2)
    assert "reconnecting in 2 s" in snapshot.notice
    assert snapshot.measuring and snapshot.eta is None  # 4 messages: no rate to go by yet
    tracker.feed(Finished(CopyReport()))
    assert tracker.snapshot().phase == "finished"


def test_the_check_after_the_copy_is_a_phase_of_its_own() -> None:
    clock = FakeClock()
    tracker = ProgressTracker([("A", "A", 2, 200)], clock)
    tracker.feed(MessageCopied(MessageRef("A", 1, 100)))
    tracker.feed(MessageCopied(MessageRef("A", 2, 100)))
    assert progress_line(tracker.snapshot()).startswith("2/2 msgs · ")
    assert tracker.feed(Verifying(0, 100_000))  # the phase starts: shown at once
    assert not tracker.feed(Verifying(41_200, 100_000))  # the rest as the throttle allows
    snapshot = tracker.snapshot()
    assert snapshot.phase == "verifying"
    assert progress_line(snapshot) == "Checking 41,200/100,000 messages on the target"
    assert overall(snapshot) == (41_200, 100_000)  # the bar follows the check, not the copy
    tracker.set_phase("cancelling")
    assert progress_line(tracker.snapshot()) == (
        "Cancelling the check at 41,200/100,000 messages; the report follows"
    )


def folder(name: str, messages: int = 1) -> FolderInfo:
    return FolderInfo(name, ".", messages=messages)


def test_selection_marked_folders_messages_or_the_folder_at_hand() -> None:
    folders = [folder("INBOX"), folder("Sent"), folder("Archive", 0)]
    marks = MarkSet()
    assert selection_from(marks, folders, None) is None
    at_hand = selection_from(marks, folders, folders[1])
    assert at_hand is not None and at_hand.folders == ("Sent",) and not at_hand.only_uids
    marks.toggle_folder(folders[1])
    marks.toggle_message("INBOX", 7, 100)
    marks.toggle_message("INBOX", 9, None)
    marks.toggle_message("Sent", 3, 100)  # inside a marked folder: the folder wins
    chosen = selection_from(marks, folders, folders[2])
    assert chosen is not None
    assert chosen.folders == ("INBOX", "Sent")
    assert chosen.only_uids == {"INBOX": frozenset({7, 9})}
    assert chosen.description == "1 marked folder and 2 marked messages in 1 folder"
    options = chosen.options()
    assert list(options.include) == ["INBOX", "Sent"]
    assert options.only_uids == {"INBOX": frozenset({7, 9})}
    assert not options.overrides  # the saved folder map is the copy service's to apply


def test_exact_patterns_escape_only_names_that_would_match_others() -> None:
    names = ["[Gmail]/Sent Mail", "G/Sent Mail", "Plain", "a*b", "x"]
    assert exact_pattern("Plain", names) == "Plain"
    assert exact_pattern("a*b", names) == "a*b"  # matches nothing else: left for the engine
    assert exact_pattern("[Gmail]/Sent Mail", names) == "[[]Gmail]/Sent Mail"


def maildir(root: Path, *folders: str) -> MaildirStore:
    make_maildir(root)
    store = MaildirStore(str(root), readonly=False)
    for name in folders:
        store.create_folder(name)
    return store


def test_compute_map_shows_conflicts_and_merges(tmp_path: Path) -> None:
    source = maildir(tmp_path / "s", "Drafts", "Entwürfe", "Archive", "Archive.2023")
    target = maildir(tmp_path / "t", "Entwürfe")
    result = compute_map(source, target, {})
    rows = {row.source: row for row in result.rows}
    assert [c.target for c in result.conflicts] == ["Entwürfe"]
    assert rows["Drafts"].conflict and rows["Entwürfe"].conflict
    assert rows["Drafts"].target == rows["Entwürfe"].target == "Entwürfe"
    assert rows["Entwürfe"].reason == "conflict" and rows["Drafts"].reason == "special"
    assert not rows["Archive.2023"].target_exists and rows["Archive.2023"].reason == "path"
    assert result.rows[0].source == "INBOX"
    assert result.target_folders == ["INBOX", "Entwürfe"]

    merged = compute_map(source, target, {"Entwürfe": "Entwürfe", "Gone": "X"})
    rows = {row.source: row for row in merged.rows}
    assert not merged.conflicts and merged.dropped == ["Gone"]
    assert rows["Drafts"].merge and rows["Entwürfe"].merge and rows["Entwürfe"].reason == "manual"
    assert not rows["Archive"].merge


def test_saved_maps_are_per_pair_and_owner_only(isolated_mailmig: Path) -> None:
    one = AccountSpec(kind="maildir", path="/srv/one")
    two = AccountSpec(kind="imap", user="anna", host="mail.example.com", port=993)
    assert load_overrides(one, two) == {}
    path = save_overrides(one, two, {"Sent": "Gesendete Elemente"})
    assert path == map_path(one, two) and path.parent == isolated_mailmig / "state" / "maps"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_overrides(one, two) == {"Sent": "Gesendete Elemente"}
    assert load_overrides(two, one) == {}  # the other direction is another pair


def test_estimate_says_what_it_assumes(isolated_mailmig: Path) -> None:
    one = AccountSpec(kind="maildir", path="/srv/one")
    two = AccountSpec(kind="maildir", path="/srv/two")
    guess = estimate(1200, 10 * 1024 * 1024, load_rate(one, two))
    assert guess.rate == DEFAULT_RATE and guess.seconds == 60
    assert estimate_text(guess).startswith(
        "about 1 min (estimate at 20 msg/s · 1.0 MB/s: a cautious"
    )
    too_few = CopyReport([FolderReport("A", "A", copied=10, bytes=100)], 1)
    save_rate(one, two, too_few)  # too few messages to measure a rate by
    assert load_rate(one, two) == DEFAULT_RATE
    save_rate(one, two, CopyReport([FolderReport("A", "A", copied=600, bytes=6_000_000)], 2))
    measured = load_rate(one, two)
    assert measured.measured and measured.messages_per_second == 300
    assert load_rate(two, one) == DEFAULT_RATE  # the other direction is another pair
    assert "measured in the last copy" in estimate_text(estimate(600, 1, measured))
    assert duration(3725) == "1:02:05" and duration(42) == "0:42"


def test_the_log_has_every_failure_the_report_and_the_check_and_no_password(
    tmp_path: Path,
) -> None:
    redact("s3cret-Passw0rd")
    log = CopyLog(tmp_path / "log" / "transfer-x.log")
    ref = MessageRef("INBOX", 7, 120, "login s3cret-Passw0rd", "<m@x>")
    log.failure(Failure(ref, "NO refused"))
    folder = FolderReport("INBOX", "INBOX", source_messages=5, copied=3, failed=1, not_copied=1)
    log.report(CopyReport([folder], elapsed=2.0, cancelled=True))
    check = FolderCheck("INBOX", "INBOX", 3, 2, missing=[MessageRef("INBOX", 9, 50, "Hi")])
    log.verify(VerifyReport([check]), "")
    log.verify(None, "the copy was cancelled; copy again to finish it")
    log.close()
    again = CopyLog(tmp_path / "log" / "transfer-x.log")  # same second: a new file
    again.close()
    text = log.path.read_text()
    assert "failed: INBOX UID 7" in text and "s3cret-Passw0rd" not in text
    assert "report (cancelled):" in text and "failed 1, not copied 1" in text
    assert "missing: INBOX UID 9 'Hi'" in text and "1 missing on the target" in text
    assert "verify: not run: the copy was cancelled" in text
    assert again.path != log.path and stat.S_IMODE(log.path.stat().st_mode) == 0o600
