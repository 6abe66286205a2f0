"""Many users in one batch: a CSV with one row per user, copied N users at a time.

Two CSV shapes are read. Ours names both accounts per row:

    source,target,source_password_env,target_password_env
    imaps://alice@old.example.com,imaps://alice@example.com,ALICE_OLD_PW,ALICE_NEW_PW

The optional columns source_password_command / target_password_command name a command
printing the password (`pass show old/alice`), as --source-password-command does for every
row without one. Microsoft's IMAP migration batch (`EmailAddress,UserName,Password`) names
the target mailbox and the source login; the hosts then come from the command line. A
password column is read only when the admin says `--passwords-in-csv`: otherwise passwords
come from a password command, the variables the row names, a passwords file only its owner
can read, the netrc file or the keyring (`secrets.find_password`'s order).
"""

from __future__ import annotations

import csv
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from mailmig_tui import secrets
from mailmig_tui.accounts import needs_password
from mailmig_tui.engine.copy_service import CopyRequest, CopyService
from mailmig_tui.engine.events import CopyEvent, CopyReport
from mailmig_tui.engine.folder_copier import CopySettings
from mailmig_tui.engine.journal import Journal
from mailmig_tui.engine.plan import CopyOptions
from mailmig_tui.engine.session import Accounts
from mailmig_tui.errors import ConfigError, MailmigError, PasswordUnavailable, UsageError
from mailmig_tui.model import AccountSpec
from mailmig_tui.password_command import normalised, with_password_command

OURS = ("source", "target")
NOT_SECRET = ("_env", "_command")
"""Column endings that name where a password is, not the password."""
MICROSOFT = ("emailaddress", "username")


@dataclass(frozen=True)
class BatchUser:
    row: int
    source: str
    target: str
    source_password_env: str = ""
    target_password_env: str = ""
    source_password: str = field(default="", repr=False)
    target_password: str = field(default="", repr=False)
    source_password_command: str = ""
    """The row's column, else --source-password-command; run without a shell."""
    target_password_command: str = ""

    @property
    def label(self) -> str:
        return f"row {self.row}: {self.source} -> {self.target}"


@dataclass
class UserResult:
    user: BatchUser
    state: str = "waiting"
    """waiting, copying, done, failed (some messages), error (could not run)."""
    report: CopyReport | None = None
    error: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "row": self.user.row,
            "source": self.user.source,
            "target": self.user.target,
            "state": self.state,
            "error": self.error or None,
            "report": self.report.as_json() if self.report else None,
        }


def read_batch(
    path: Path,
    *,
    passwords_in_csv: bool = False,
    source_host: str = "",
    target_host: str = "",
    source_password_command: str = "",
    target_password_command: str = "",
) -> list[BatchUser]:
    """Rows of a batch CSV; every problem names the row and the fix.

    The password commands given are the default of rows that name none in their columns.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"cannot read the batch file {path}: {exc}") from None
    users = []
    for number, raw in enumerate(rows, start=2):  # row 1 is the header
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        if not any(row.values()):
            continue
        secret_columns = [
            k for k in row if "password" in k and not k.endswith(NOT_SECRET) and row[k]
        ]
        if secret_columns and not passwords_in_csv:
            raise UsageError(
                f"{path} row {number} holds a password column ({secret_columns[0]})",
                "keep passwords out of the CSV, or pass --passwords-in-csv knowingly",
            )
        commands = {
            role: _row_command(path, number, row.get(f"{role}_password_command") or default)
            for role, default in (
                ("source", source_password_command),
                ("target", target_password_command),
            )
        }
        if all(row.get(c) for c in OURS):
            users.append(
                BatchUser(
                    number,
                    row["source"],
                    row["target"],
                    row.get("source_password_env", ""),
                    row.get("target_password_env", ""),
                    row.get("source_password", ""),
                    row.get("target_password", ""),
                    commands["source"],
                    commands["target"],
                )
            )
        elif all(row.get(c) for c in MICROSOFT):
            if not (source_host and target_host):
                raise UsageError(
                    f"{path} is a Microsoft-style batch (EmailAddress,UserName)",
                    "give --source-host and --target-host for it",
                )
            users.append(
                BatchUser(
                    number,
                    f"imaps://{quote(row['username'], safe='')}@{source_host}",
                    f"imaps://{quote(row['emailaddress'], safe='')}@{target_host}",
                    source_password=row.get("password", ""),
                    source_password_command=commands["source"],
                    target_password_command=commands["target"],
                )
            )
        else:
            raise UsageError(
                f"{path} row {number} names no source and target",
                "columns: source,target[,source_password_env,target_password_env,"
                "source_password_command,target_password_command]",
            )
    if not users:
        raise UsageError(f"the batch file {path} has no users")
    return users


def _row_command(path: Path, number: int, command: str) -> str:
    """A row's password command, checked before any user is copied."""
    if not command:
        return ""
    try:
        return normalised(command)
    except UsageError as exc:
        raise UsageError(f"{path} row {number}: {exc.message}", exc.hint) from None


def read_passwords_file(path: Path) -> dict[str, str]:
    """`ACCOUNT<TAB>PASSWORD` lines from a file that only its owner can read."""
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise ConfigError(
                f"the passwords file {path} is readable by others (mode {mode & 0o777:o})",
                f"chmod 600 {path}",
            )
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read the passwords file {path}: {exc.strerror}") from None
    result = {}
    for line in lines:
        account, sep, password = line.partition("\t")
        if sep and account.strip() and not account.startswith("#"):
            result[account.strip()] = password
    return result


Resolver = Callable[[str], AccountSpec]
UserEventSink = Callable[[UserResult, CopyEvent | None], None]


@dataclass(frozen=True)
class BatchJob:
    """A batch as the operator asked for it, whichever front end runs it."""

    users: Sequence[BatchUser]
    resolve: Resolver
    passwords: dict[str, str] = field(default_factory=dict, repr=False)
    parallel: int = 2
    settings: CopySettings = field(default_factory=lambda: CopySettings(connections=2))
    report: str | None = None
    """Where to write the batch report (JSON), if anywhere."""
    options: CopyOptions = field(default_factory=CopyOptions)
    """The same for every user: the copy filter (`--since`, `--before`,
    `--skip-larger-than`)."""

    def run(
        self,
        *,
        cancel: threading.Event | None = None,
        on_event: UserEventSink = lambda result, event: None,
    ) -> list[UserResult]:
        """Copy every user (blocking): what the headless batch and its screen both run."""
        return run_batch(
            self.users,
            self.resolve,
            parallel=self.parallel,
            passwords=self.passwords,
            options=self.options,
            settings=self.settings,
            cancel=cancel,
            on_event=on_event,
        )


def batch_summary(results: Sequence[UserResult]) -> dict[str, object]:
    """The batch report: one entry per user, and how many ended in each state."""
    return {
        "users": [r.as_json() for r in results],
        "done": sum(r.state == "done" for r in results),
        "failed": sum(r.state == "failed" for r in results),
        "errors": sum(r.state == "error" for r in results),
    }


def run_batch(
    users: Sequence[BatchUser],
    resolve: Resolver,
    *,
    parallel: int = 2,
    passwords: dict[str, str] | None = None,
    options: CopyOptions | None = None,
    settings: CopySettings | None = None,
    cancel: threading.Event | None = None,
    on_event: UserEventSink = lambda result, event: None,
) -> list[UserResult]:
    """Copy every user's mailbox through the copy service (so each user is verified and
    logged like a single `mailmig copy`); one user's failure never stops the others."""
    results = [UserResult(user) for user in users]
    cancel = cancel or threading.Event()
    lock = threading.Lock()
    journal = Journal()

    def notify(result: UserResult, event: CopyEvent | None) -> None:
        with lock:
            on_event(result, event)

    def one(result: UserResult) -> None:
        if cancel.is_set():
            return
        result.state = "copying"
        notify(result, None)
        try:
            result.report = _copy_user(
                result,
                resolve,
                passwords or {},
                journal,
                options or CopyOptions(),
                settings,
                cancel,
                notify,
            )
            result.state = "done" if result.report.complete else "failed"
            result.error = result.report.error
        except MailmigError as exc:
            result.state, result.error = "error", exc.one_line()
        notify(result, None)

    try:
        with ThreadPoolExecutor(
            max_workers=max(1, parallel), thread_name_prefix="mailmig-user"
        ) as pool:
            list(pool.map(one, results))
    finally:
        journal.close()
    return results


def _password(
    spec: AccountSpec,
    role: str,
    env_name: str,
    inline: str,
    passwords: dict[str, str],
    account: str,
) -> str:
    """A row's password in `secrets.find_password`'s order: the row's variable, passwords
    file and (with --passwords-in-csv) CSV column stand where the environment stands."""

    def given() -> str | None:
        if env_name and os.environ.get(env_name):
            return os.environ[env_name]
        for key in (account, spec.display, spec.identity):
            if key in passwords:
                return passwords[key]
        return inline or None

    found = secrets.find_password(spec, role, given=given)
    if found:
        return found
    raise PasswordUnavailable(
        f"no password for the {role} account {spec.display}",
        "add a password command or an environment variable's name to the CSV, or use "
        "--passwords-file, ~/.netrc or the keyring",
    )


def _copy_user(
    result: UserResult,
    resolve: Resolver,
    passwords: dict[str, str],
    journal: Journal,
    options: CopyOptions,
    settings: CopySettings | None,
    cancel: threading.Event,
    notify: UserEventSink,
) -> CopyReport:
    user = result.user
    source_spec, target_spec = resolve(user.source), resolve(user.target)
    if user.source_password_command:  # the row's (or the batch's) command wins
        source_spec = with_password_command(source_spec, user.source_password_command)
    if user.target_password_command:
        target_spec = with_password_command(target_spec, user.target_password_command)
    words = {
        "source": ""
        if not needs_password(source_spec)
        else _password(
            source_spec,
            "source",
            user.source_password_env,
            user.source_password,
            passwords,
            user.source,
        ),
        "target": ""
        if not needs_password(target_spec)
        else _password(
            target_spec,
            "target",
            user.target_password_env,
            user.target_password,
            passwords,
            user.target,
        ),
    }

    accounts = Accounts(source_spec, target_spec, words["source"], words["target"])
    request = CopyRequest(
        options=options,
        settings=settings or CopySettings(connections=2),
        description=f"batch {user.label}",
    )
    return CopyService(accounts, journal).copy(
        request, cancel=cancel, on_event=lambda event: notify(result, event)
    )
